/**
 * The concurrency bound counts user code actually running: an activation that timed out (or whose job ended) but
 * ignores its signal keeps its permit until its `run` settles, and is reported as `abandoned`.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine } from 'slotflow';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { createManualClock } from '../helpers/prop-clock.js';
import { useRuntimes } from '../helpers/runtimes.js';

const makeRuntime = useRuntimes();

/** A routine whose `run` ignores its signal and waits for the test to let it go; counts how many run at once. */
function stubborn(timeoutMs?: number) {
  const gates: Deferred[] = [];
  const live = { now: 0, max: 0 };
  const routine = defineRoutine({
    name: 'stubborn',
    slots: ['in'],
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    async run() {
      live.now++;
      live.max = Math.max(live.max, live.now);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      live.now--;
    },
  });
  return { routine, gates, live };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('an activation that ignores its signal', () => {
  it('keeps its permit until run settles: with concurrency 1, never two user functions at once', async () => {
    const clock = createManualClock();
    const rt = makeRuntime({ concurrency: 1, clock });
    const { routine, gates, live } = stubborn(10);
    const flow = createFlow('stubborn').add('s', routine, { onError: 'continue' });
    const jobs = [1, 2, 3].map(() => rt.exec(flow));
    await turn();
    await clock.advance(10); // the first times out; its run goes on
    const first = await jobs[0]?.wait();
    // The job itself finished on time.
    expect(first?.status).toBe('completed');
    expect(first?.history.map((h) => [h.outcome, h.abandoned])).toEqual([['timeout', true]]);
    await clock.advance(100);
    expect(gates).toHaveLength(1);
    expect(live.max).toBe(1);
    gates[0]?.resolve();
    await turn();
    expect(gates).toHaveLength(2); // only now does the next job's activation start
    await clock.advance(10);
    gates[1]?.resolve();
    await turn();
    await clock.advance(10);
    gates[2]?.resolve();
    await Promise.all(jobs.map((j) => j.wait()));
    expect(live.max).toBe(1);
    expect(rt.metrics().flows.stubborn?.routines.s?.abandoned).toBe(3);
  });

  it('a cancelled job ends at once; its ignored run keeps the permit, and shutdown still completes', async () => {
    const rt = makeRuntime({ concurrency: 1 });
    const { routine, gates, live } = stubborn();
    const flow = createFlow('stubborn_cancel').add('s', routine);
    const a = rt.exec(flow);
    const b = rt.exec(flow);
    await turn();
    a.cancel('stop');
    const state = await a.wait();
    expect(state.status).toBe('cancelled');
    expect(state.history.map((h) => [h.outcome, h.abandoned])).toEqual([['cancelled', true]]);
    await turn();
    expect(gates).toHaveLength(1);
    expect(live.max).toBe(1);
    gates[0]?.resolve();
    await turn();
    expect(gates).toHaveLength(2);
    b.cancel();
    await rt.shutdown();
    expect(b.status).toBe('cancelled');
  });
});
