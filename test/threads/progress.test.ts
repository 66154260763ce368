/**
 * What a threaded routine's context offers beyond data: progress() reaches the main thread's throttled
 * routine.progress events as inline, and resource() refuses with a typed error. Real worker threads throughout.
 */
import { createFlow, isInvalidOptionError, isThreadResourceError, ThreadResourceError, type JobEvent, type JobState } from 'slotflow';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { reporter, resourceUser } from './fixtures/routines.js';

const runtime = useRuntimes();
const T = 30_000;

type Progress = Extract<JobEvent, { type: 'routine.progress' }>;

/** Runs `reporter` once (inline or on a thread) and returns its job's events and final state. */
async function report(isolation: 'inline' | 'thread', input: { steps: number; bad?: boolean }): Promise<{ events: JobEvent[]; state: JobState }> {
  const rt = runtime();
  const flow = createFlow(`report-${isolation}`).add('r', reporter, { isolation }).entry('r', 'input');
  const job = rt.exec(flow, { params: input });
  const events: JobEvent[] = [];
  job.events$.subscribe((e) => events.push(e));
  const state = await job.wait();
  return { events, state };
}

/** The routine's lifecycle and progress events, in order. */
const timeline = (events: readonly JobEvent[]) =>
  events.flatMap((e) => (e.type === 'routine.started' || e.type === 'routine.completed' || e.type === 'routine.failed' ? [e.type] : e.type === 'routine.progress' ? [`progress ${String(e.done)}/${String(e.total)}`] : []));

describe('progress() in a threaded routine', () => {
  it.each(['thread', 'inline'] as const)('%s: yields routine.progress events with done/total, the last update before routine.completed', async (isolation) => {
    const steps = 200;
    const { events, state } = await report(isolation, { steps });
    expect(state.status).toBe('completed');
    expect(state.outputs['r.output']).toEqual([{ steps }]);
    const progress = events.filter((e): e is Progress => e.type === 'routine.progress');
    // The first update goes out at once, the last one is never lost; in between, at most one per 100 ms.
    expect(progress[0]).toMatchObject({ routineId: 'r', done: 1, total: steps, message: 'step 1' });
    expect(progress.at(-1)).toMatchObject({ routineId: 'r', done: steps, total: steps, message: `step ${String(steps)}` });
    expect(progress.length).toBeLessThan(steps);
    const dones = progress.map((e) => e.done ?? -1);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    const line = timeline(events);
    expect(line[0]).toBe('routine.started');
    expect(line.slice(-2)).toEqual([`progress ${String(steps)}/${String(steps)}`, 'routine.completed']);
  }, T);

  it('refuses a bad update on the main thread with InvalidOptionError naming the routine, as inline', async () => {
    const threaded = await report('thread', { steps: 1, bad: true });
    const inline = await report('inline', { steps: 1, bad: true });
    for (const { state, events } of [threaded, inline]) {
      expect(state.status).toBe('failed');
      const cause = (state.error as Error).cause;
      expect(isInvalidOptionError(cause)).toBe(true);
      expect((cause as Error).message).toContain("progress() of routine 'r'");
      expect(events.some((e) => e.type === 'routine.progress')).toBe(false);
    }
  }, T);
});

describe('resource() in a threaded routine', () => {
  let db: { cleanedBy?: string[] };
  const withDb = () => {
    db = {};
    return runtime({ resources: { db: () => db } });
  };

  it('rejects with ThreadResourceError naming the routine and the resource; the activation fails with it, its cleanup still gets the resource', async () => {
    const rt = withDb();
    const job = rt.exec(createFlow('uses-db').add('u', resourceUser).entry('u', 'input'), { params: { catch: false } });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    const cause = (state.error as Error).cause;
    expect(isThreadResourceError(cause)).toBe(true);
    expect(cause).toBeInstanceOf(ThreadResourceError);
    expect(cause).toMatchObject({ name: 'ThreadResourceError', code: 'THREAD_RESOURCE', flowId: 'uses-db', routineId: 'u', resource: 'db' });
    expect((cause as Error).message).toContain("resource('db')");
    expect((cause as Error).message).toContain('resources live on the main thread');
    // Only the routine's cleanup, which runs on the main thread, got the resource.
    expect(rt.metrics().resources.db).toMatchObject({ accesses: 1, creations: 1 });
    expect(db.cleanedBy).toEqual(['u']);
  }, T);

  it('is a rejection the routine can catch in the thread, and carries the name and code there', async () => {
    const rt = withDb();
    const job = rt.exec(createFlow('catches-db').add('u', resourceUser).entry('u', 'input'), { params: { catch: true } });
    const state = await job.wait();
    expect(state.status).toBe('completed');
    const [seen] = state.outputs['u.output'] as { name: string; code: string; message: string }[];
    expect(seen).toMatchObject({ name: 'ThreadResourceError', code: 'THREAD_RESOURCE' });
    expect(seen?.message).toContain("Routine 'u' of flow 'catches-db'");
  }, T);
});
