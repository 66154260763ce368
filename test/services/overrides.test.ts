import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, isInvalidOptionError, isSnapshotError, policies, type JobSnapshot } from 'slotflow';
import { createTestRuntime } from 'slotflow/testing';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

const viaJson = (snapshot: JobSnapshot): JobSnapshot => JSON.parse(JSON.stringify(snapshot)) as JobSnapshot;

/** `greet` emits its config and how many items it took; `fail` set in its config makes it throw. */
const greet = defineRoutine({
  name: 'greet',
  slots: ['in'],
  events: { said: ['text', 'took'] },
  config: { greeting: 'hello', name: 'world', fail: false },
  run({ slots, config, emit }) {
    if (config.fail) throw new Error('told to fail');
    emit('said', { text: `${config.greeting} ${config.name}`, took: slots.in.length });
  },
});
const flow = createFlow('greeting').add('greet', greet, { config: { name: 'flow' } });

describe('exec({ overrides })', () => {
  it('merges an override config over the instance config for that job only', async () => {
    const rt = runtime();
    const [plain, overridden] = [rt.exec(flow, { params: {} }), rt.exec(flow, { params: {}, overrides: { greet: { config: { greeting: 'hi' } } } })];
    expect((await plain.wait()).outputs['greet.said']).toEqual([{ text: 'hello flow', took: 1 }]);
    expect((await overridden.wait()).outputs['greet.said']).toEqual([{ text: 'hi flow', took: 1 }]);
    // The flow is unchanged for later jobs.
    expect((await rt.exec(flow, { params: {} }).wait()).outputs['greet.said']).toEqual([{ text: 'hello flow', took: 1 }]);
  });

  it('replaces the policy, the error strategy and the timeout', async () => {
    await using rt = createTestRuntime();
    const batched = rt.exec(flow, { keepAlive: true, overrides: { greet: { policy: policies.batch(2) } } });
    batched.post('greet', 'in', { a: 1 });
    await rt.settle();
    expect(batched.state.outputs['greet.said']).toBeUndefined();
    batched.post('greet', 'in', { a: 2 });
    await rt.settle();
    expect(batched.state.outputs['greet.said']).toEqual([{ text: 'hello flow', took: 2 }]);
    batched.complete();
    await batched.wait();

    const continued = rt.exec(flow, { params: {}, overrides: { greet: { config: { fail: true }, onError: 'continue' } } });
    expect((await continued.wait()).status).toBe('completed');
    expect((await rt.exec(flow, { params: {}, overrides: { greet: { config: { fail: true } } } }).wait()).status).toBe('failed');

    const slow = defineRoutine({ name: 'slow', slots: ['in'], timeoutMs: 1000, run: ({ signal }) => rt.clock.sleep(500, signal) });
    const slowFlow = createFlow('slow').add('slow', slow);
    const timed = rt.exec(slowFlow, { params: {}, overrides: { slow: { timeoutMs: 100 } } });
    await rt.clock.advance(100);
    await timed.wait();
    expect(timed.status).toBe('failed');
    expect(((timed.error as Error).cause as Error).name).toBe('ActivationTimeoutError');
    const untimed = rt.exec(slowFlow, { params: {} });
    await rt.clock.advance(500);
    expect((await untimed.wait()).status).toBe('completed');
  });

  it('rejects unknown routine ids, unknown keys and bad values with InvalidOptionError', () => {
    const rt = runtime();
    const attempt = (overrides: unknown) => {
      try {
        rt.exec(flow, { params: {}, overrides: overrides as never });
      } catch (error) {
        return error as Error;
      }
      return undefined;
    };
    const unknownId = attempt({ gret: { config: {} } });
    expect(isInvalidOptionError(unknownId)).toBe(true);
    expect(unknownId?.message).toBe("Expected `exec({ overrides }).gret` to be a routine id of flow 'greeting' ('greet'), got 'gret' (string).");
    expect(attempt({ greet: { confg: {} } })?.message).toContain("did you mean 'config'?");
    for (const bad of [5, { greet: 3 }, { greet: { config: 'x' } }, { greet: { policy: {} } }, { greet: { onError: 'retry' } }, { greet: { timeoutMs: -1 } }]) expect(isInvalidOptionError(attempt(bad)), JSON.stringify(bad)).toBe(true);
    expect(rt.listJobs()).toHaveLength(0);
  });

  it('survives snapshot and restore: config, built-in policy, error strategy and timeout persist', async () => {
    const first = runtime();
    const job = first.exec(flow, { keepAlive: true, overrides: { greet: { config: { greeting: 'hey' }, policy: policies.batch(2), onError: 'continue', timeoutMs: 5000 } } });
    job.post('greet', 'in', { a: 1 });
    await flush();
    const snapshot = viaJson(job.snapshot());
    job.cancel();
    expect(snapshot.overrides).toEqual({ greet: { config: { greeting: 'hey' }, policy: { name: 'batch', params: { n: 2 } }, onError: 'continue', timeoutMs: 5000 } });
    const second = runtime();
    second.register(flow);
    const restored = second.restore(snapshot);
    restored.post('greet', 'in', { a: 2 });
    restored.complete();
    const state = await restored.wait();
    expect(state.outputs['greet.said']).toEqual([{ text: 'hey flow', took: 2 }]);
    // The restored job's own snapshot carries them on.
    expect(restored.snapshot().overrides).toEqual(snapshot.overrides);
  });

  it('a custom policy override must be given again on restore, else SnapshotError', async () => {
    const pairs = policies.custom({ name: 'pairs', ready: (queues) => (queues.in?.length ?? 0) >= 2 });
    const first = runtime();
    const job = first.exec(flow, { keepAlive: true, overrides: { greet: { policy: pairs, config: { greeting: 'yo' } } } });
    job.post('greet', 'in', { a: 1 });
    await flush();
    const snapshot = viaJson(job.snapshot());
    job.cancel();
    expect(snapshot.overrides?.greet).toEqual({ config: { greeting: 'yo' }, missing: ['policy'] });
    const second = runtime();
    second.register(flow);
    let thrown: unknown;
    try {
      second.restore(snapshot);
    } catch (error) {
      thrown = error;
    }
    expect(isSnapshotError(thrown)).toBe(true);
    expect((thrown as Error).message).toContain("routine 'greet' ran with a custom policy override, which a snapshot cannot carry; give it again: exec(flow, { from, overrides: { greet: { policy } } })");
    const restored = second.exec(flow, { from: snapshot, overrides: { greet: { policy: pairs } } });
    restored.post('greet', 'in', { a: 2 });
    restored.complete();
    expect((await restored.wait()).outputs['greet.said']).toEqual([{ text: 'yo flow', took: 2 }]);
  });
});
