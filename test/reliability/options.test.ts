/**
 * Options and arguments: a typo or a value of the wrong type is an `InvalidOptionError` naming the option (and the
 * closest known key), never a silent default or a raw TypeError.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFlow, createMemoryStore, createRuntime, defineRoutine, isInvalidOptionError, type Runtime } from 'slotflow';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();
afterEach(() => {
  vi.restoreAllMocks();
});

const echo = defineRoutine({
  name: 'echo',
  slots: ['in'],
  events: { out: ['v'] },
  run({ slots, emit }) {
    for (const payload of slots.in) emit('out', { v: payload.v });
  },
});
const flow = () => createFlow('echo').add('e', echo);

/** The InvalidOptionError `fn` throws (fails the test when it throws anything else or nothing). */
function invalid(fn: () => unknown): Error & { option: string } {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(Error);
  expect(isInvalidOptionError(caught), String(caught)).toBe(true);
  return caught as Error & { option: string };
}

describe('unknown option keys', () => {
  it("createRuntime({ concurency: 4 }) says did you mean 'concurrency'", () => {
    const error = invalid(() => createRuntime({ concurency: 4 } as never));
    expect(error.option).toBe('createRuntime(options).concurency');
    expect(error.message).toMatch(/did you mean 'concurrency'\?/);
    expect(error.name).toBe('InvalidOptionError');
  });

  it('every runtime method taking options rejects a typo, naming the closest key', async () => {
    const rt = runtime().register(flow());
    const job = rt.exec('echo', { params: { v: 1 } });
    const cases: [() => unknown, RegExp][] = [
      [() => rt.exec('echo', { parms: {} } as never), /exec\(options\)\.parms.*did you mean 'params'/],
      [() => rt.restore(job.snapshot(), { signl: undefined } as never), /restore\(options\)\.signl.*did you mean 'signal'/],
      [() => rt.post('echo', 'e', 'in', { v: 1 }, { jobid: 'x' } as never), /post\(options\)\.jobid.*did you mean 'jobId'/],
      [() => rt.listJobs({ flowID: 'echo' } as never), /listJobs\(filter\)\.flowID.*did you mean 'flowId'/],
      [() => rt.metrics({ rest: true } as never), /metrics\(options\)\.rest.*did you mean 'reset'/],
      [() => job.wait({ timeout: 5 } as never), /wait\(options\)\.timeout.*did you mean 'timeoutMs'/],
    ];
    for (const [fn, message] of cases) expect(invalid(fn).message).toMatch(message);
    await expect(rt.waitForAll({ timeoutMS: 5 } as never)).rejects.toThrow(/waitForAll\(options\)\.timeoutMS.*did you mean 'timeoutMs'/);
    await expect(rt.shutdown({ wiat: true } as never)).rejects.toThrow(/shutdown\(options\)\.wiat.*did you mean 'wait'/);
  });

  it('defineRoutine, flow.add and flow.connect reject unknown keys', () => {
    expect(invalid(() => defineRoutine({ name: 'x', slots: ['in'], run() {}, timeout: 5 } as never)).message).toMatch(/defineRoutine\(options\)\.timeout.*did you mean 'timeoutMs'/);
    expect(() => createFlow('f').add('e', echo, { maxQeue: 3 } as never).compile()).toThrow(/maxQeue.*did you mean 'maxQueue'/);
    expect(() =>
      createFlow('f')
        .add('e', echo)
        .connect('e.out', 'e.in', { maxIteration: 3 } as never)
        .compile(),
    ).toThrow(/maxIteration.*did you mean 'maxIterations'/);
    expect(invalid(() => defineRoutine({ name: 'x', slots: ['in'], run() {}, onError: { retry: { max: 1, backof: 3 } } } as never)).message).toMatch(/backof.*did you mean 'backoffMs'/);
  });
});

describe('options of the wrong type', () => {
  it.each([
    ['onCheckpointError', { onCheckpointError: 1 }],
    ['migrateSnapshot', { migrateSnapshot: 'x' }],
    ['storeTimeoutMs', { storeTimeoutMs: -1 }],
    ['storeTimeoutMs', { storeTimeoutMs: Number.NaN }],
    ['inspect', { inspect: 'yes' }],
  ])('%s is InvalidOptionError at createRuntime', (option, options) => {
    expect(invalid(() => createRuntime(options as never)).option).toBe(option);
  });

  it('null instead of an options object is InvalidOptionError, not a TypeError', () => {
    const rt = runtime().register(flow());
    const job = rt.exec('echo', { params: { v: 1 } });
    const calls: (() => unknown)[] = [
      () => createRuntime(null as never),
      () => rt.exec('echo', null as never),
      () => rt.restore(job.snapshot(), null as never),
      () => rt.post('echo', 'e', 'in', { v: 1 }, null as never),
      () => rt.listJobs(null as never),
      () => rt.metrics(null as never),
      () => job.wait(null as never),
      () => defineRoutine(null as never),
      () => createFlow('f').add('e', echo, null as never).compile(),
    ];
    for (const call of calls) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(caught, String(call)).toBeInstanceOf(Error);
      expect((caught as Error).name, String(caught)).not.toBe('TypeError');
    }
  });

  it("listJobs({ status: 'bogus' }) lists the valid statuses", () => {
    const rt: Runtime = runtime();
    const error = invalid(() => rt.listJobs({ status: 'bogus' as never }));
    expect(error.message).toMatch(/'queued', 'running', 'paused', 'idle', 'completed', 'failed', 'cancelled'/);
    expect(invalid(() => rt.listJobs({ status: ['running', 'nope'] as never })).option).toBe('listJobs({ status })');
    expect(rt.listJobs({ status: ['running', 'completed'] })).toEqual([]);
  });
});

describe('store options', () => {
  it('createMemoryStore and createFileStore reject unknown option keys', async () => {
    const { createFileStore } = await import('slotflow');
    expect(invalid(() => createMemoryStore({ sise: 1 } as never)).message).toMatch(/createMemoryStore\(options\)\.sise.*takes no options/);
    expect(invalid(() => createFileStore('/tmp/never-created-slotflow', { durabilty: 'none' } as never)).message).toMatch(/durabilty.*did you mean 'durability'/);
  });
});
