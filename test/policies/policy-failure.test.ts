/**
 * A custom policy whose `ready` or `take` throws goes through the routine's error strategy, as a failed activation
 * does: `continue` records the error and asks the policy again only on the next arrival or tick, `skip` marks the
 * routine skipped, `retry` asks the policy again after its backoff, then `then` applies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, policies, type ActivationPolicy, type ErrorStrategy, type JobEvent } from 'slotflow';
import { createTestRuntime, type TestRuntime } from 'slotflow/testing';

const made: TestRuntime[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((rt) => rt.shutdown()));
});

/** A policy that throws while `broken()` says so, else fires on any queued `in`. Counts its calls. */
function flaky(broken: () => boolean, where: 'ready' | 'take' = 'ready') {
  const calls = { ready: 0, take: 0 };
  const policy: ActivationPolicy = policies.custom({
    name: 'flaky',
    ready: (queues) => {
      calls.ready++;
      if (where === 'ready' && broken()) throw new Error('policy broke');
      return (queues.in?.length ?? 0) > 0;
    },
    take: (queues) => {
      calls.take++;
      if (where === 'take' && broken()) throw new Error('policy broke');
      return { in: queues.in?.length ?? 0 };
    },
  });
  return { policy, calls };
}

function setup(policy: ActivationPolicy, onError: ErrorStrategy) {
  const runs: unknown[][] = [];
  const sink = defineRoutine({
    name: 'sink',
    slots: ['in'],
    run({ slots }) {
      runs.push([...slots.in]);
    },
  });
  const rt = createTestRuntime();
  made.push(rt);
  const events: JobEvent[] = [];
  rt.events$.subscribe((e) => events.push(e));
  const flow = createFlow(`policyFails_${made.length}`).add('sink', sink, { policy, onError }).entry('sink', 'in');
  return { rt, flow, runs, events };
}

describe('a custom policy that throws', () => {
  it.each(['ready', 'take'] as const)("with onError 'continue' (%s throws) records the error and asks again only on the next arrival", async (where) => {
    let broken = true;
    const { policy, calls } = flaky(() => broken, where);
    const { rt, flow, runs, events } = setup(policy, 'continue');
    const job = rt.exec(flow, { params: { n: 1 }, keepAlive: true });
    await rt.settle();
    const asked = calls[where];
    expect(job.status).toBe('idle');
    const state = job.state;
    expect(state.routines.sink?.errors).toBe(1);
    expect(state.routines.sink?.pending).toEqual({ in: [{ n: 1 }] });
    expect(state.history.map((h) => h.outcome)).toEqual(['error']);
    expect(events.flatMap((e) => (e.type === 'routine.failed' ? [e.decision] : []))).toEqual(['continue']);
    // No loop: nothing asks the policy until something arrives.
    await rt.clock.advance(1000);
    expect(calls[where]).toBe(asked);
    broken = false;
    job.post('sink', 'in', { n: 2 });
    job.complete();
    const final = await job.wait();
    expect(final.status).toBe('completed');
    expect(runs).toEqual([[{ n: 1 }, { n: 2 }]]);
    expect(final.routines.sink?.errors).toBe(1);
  });

  it("with onError 'skip' marks the routine skipped and keeps its data pending", async () => {
    const { policy } = flaky(() => true);
    const { rt, flow, runs } = setup(policy, 'skip');
    const state = await rt.exec(flow, { params: { n: 1 } }).wait();
    expect(state.status).toBe('completed');
    expect(state.routines.sink?.status).toBe('skipped');
    expect(state.routines.sink?.pending).toEqual({ in: [{ n: 1 }] });
    expect(runs).toEqual([]);
  });

  it('with a retry asks the policy again after each backoff, then applies `then`', async () => {
    const { policy, calls } = flaky(() => true);
    const { rt, flow, events } = setup(policy, { retry: { max: 2, backoffMs: 100 }, then: 'stop' });
    const job = rt.exec(flow, { params: { n: 1 } });
    await rt.settle();
    expect(job.status).toBe('running');
    const first = calls.ready;
    await rt.clock.advance(100);
    expect(calls.ready).toBeGreaterThan(first);
    await rt.clock.advance(200);
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(state.history.map((h) => [h.attempt, h.outcome])).toEqual([
      [0, 'retried'],
      [1, 'retried'],
      [2, 'error'],
    ]);
    expect(events.flatMap((e) => (e.type === 'routine.retrying' ? [[e.attempt, e.delayMs]] : []))).toEqual([
      [1, 100],
      [2, 200],
    ]);
  });

  it('that recovers during a retry runs the routine on its data', async () => {
    let failures = 1;
    const { policy } = flaky(() => failures-- > 0);
    const { rt, flow, runs } = setup(policy, { retry: { max: 3, backoffMs: 50 } });
    const job = rt.exec(flow, { params: { n: 1 } });
    await rt.settle();
    await rt.clock.advance(50);
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(runs).toEqual([[{ n: 1 }]]);
    expect(state.routines.sink?.errors).toBe(1);
  });

  it("with the default 'stop' still fails the job", async () => {
    const { policy } = flaky(() => true);
    const { rt, flow } = setup(policy, 'stop');
    const state = await rt.exec(flow, { params: { n: 1 } }).wait();
    expect(state.status).toBe('failed');
    expect(state.error?.message).toMatch(/policy broke/);
  });
});
