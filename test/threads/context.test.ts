/**
 * Threaded activations against inline ones: the same flow gives the same JobState, and emits reach the main
 * thread while the activation still runs. Real worker threads throughout.
 */
import { createFlow, defineRoutine, event, type JobEvent, type JobState } from 'slotflow';
import { filter } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { bookkeeper, counter } from './fixtures/routines.js';

const runtime = useRuntimes();
const T = 30_000;

/** What a user reads of a job, without times. */
function comparable(state: JobState) {
  return {
    status: state.status,
    outputs: state.outputs,
    shared: state.shared,
    log: state.log,
    routines: Object.fromEntries(Object.entries(state.routines).map(([id, r]) => [id, { state: r.state, activations: r.activations, errors: r.errors, status: r.status }])),
    history: state.history.map(({ routineId, attempt, consumed, emitted, outcome }) => ({ routineId, attempt, consumed, emitted, outcome })),
  };
}

describe('isolation: thread', () => {
  it('routes emits in emission order and delivers early ones while the activation still runs', async () => {
    const rt = runtime();
    const flow = createFlow('ticks').add('c', counter).entry('c', 'input');
    const arrivals: { n: number; at: number }[] = [];
    const job = rt.exec(flow, { params: { count: 3, stepMs: 300 } });
    job.events$.pipe(filter((e): e is Extract<JobEvent, { type: 'event.emitted' }> => e.type === 'event.emitted' && e.event === 'tick')).subscribe((e) => {
      arrivals.push({ n: Number(e.payload.n), at: Date.now() });
    });
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(state.outputs['c.tick']).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(arrivals.map((a) => a.n)).toEqual([0, 1, 2]);
    const span = state.outputs['c.span']?.[0] as { start: number; end: number };
    // Tick 0 was emitted ~600 ms of computing before the thread's `run` ended, and arrived before that end.
    expect(arrivals[0]?.at).toBeLessThan(span.end);
  }, T);

  it('applies setState/setShared recipes as patches and log entries, in order, the same as inline', async () => {
    const rt = runtime();
    const feeder = defineRoutine({
      name: 'feeder',
      slots: ['input'],
      events: { out: event<{ add: number }>() },
      run({ emit }) {
        emit('out', { add: 2 });
        emit('out', { add: 3 });
      },
    });
    const build = (isolation: 'inline' | 'thread') =>
      createFlow(`books-${isolation}`).add('f', feeder).add('b', bookkeeper, { isolation }).connect('f.out', 'b.input').entry('f', 'input');
    const run = (isolation: 'inline' | 'thread') => rt.exec(build(isolation), { params: {} }).wait();
    const inline = await run('inline');
    const threaded = await run('thread');
    expect(threaded.routines.b?.state).toEqual({ total: 5, items: [2, 3] });
    expect(threaded.shared).toEqual({ count: 2 });
    expect(threaded.log).toEqual([
      { routine: 'b', add: 2, attempt: 0 },
      { routine: 'b', add: 3, attempt: 0 },
    ]);
    expect(comparable(threaded)).toEqual({ ...comparable(inline) });
  }, T);
});
