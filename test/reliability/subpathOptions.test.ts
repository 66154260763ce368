/**
 * The subpath entries reject unknown option keys too, with slotflow's own InvalidOptionError class.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, isInvalidOptionError } from 'slotflow';
import { instrument } from 'slotflow/otel';
import { runFlow } from 'slotflow/rx';
import { createTestRuntime } from 'slotflow/testing';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

function message(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isInvalidOptionError(caught), String(caught)).toBe(true);
  return (caught as Error).message;
}

const echo = defineRoutine({ name: 'echo', slots: ['in'], run() {} });

describe('subpath options', () => {
  it('runFlow, instrument, createTestRuntime, mock, fail and idle name the unknown key and the closest known one', async () => {
    const rt = runtime();
    expect(message(() => runFlow(rt, 'f', { concurency: 2 } as never))).toMatch(/runFlow\(runtime, flow, options\)\.concurency.*did you mean 'concurrency'/);
    expect(message(() => instrument(rt, { emited: true } as never))).toMatch(/instrument\(runtime, options\)\.emited.*did you mean 'emitted'/);
    expect(message(() => createTestRuntime({ concurency: 2 } as never))).toMatch(/concurency.*did you mean 'concurrency'/);
    expect(message(() => createTestRuntime({ clock: { now: () => 0 } } as never))).toMatch(/has its own \(rt\.clock\)/);
    expect(message(() => createTestRuntime(null as never))).toMatch(/createTestRuntime\(options\)/);
    const test = createTestRuntime();
    try {
      test.register(createFlow('f').add('e', echo));
      expect(message(() => test.mock('e', () => {}, { flow: 'f' } as never))).toMatch(/flow.*did you mean 'flowId'/);
      expect(message(() => test.fail('e', new Error('x'), { time: 2 } as never))).toMatch(/time.*did you mean 'times'/);
      expect(message(() => test.idle({ timeout: 1 } as never))).toMatch(/idle\(options\)\.timeout.*did you mean 'timeoutMs'/);
    } finally {
      await test.shutdown();
    }
  });
});
