/**
 * Failures of threaded activations are data: each goes through the routine's error strategy, the pool replaces the
 * thread, and the process and other jobs go on. Real worker threads (a thread really exits, crashes, runs out of heap).
 */
import { createFlow, isNonErrorThrownError, isPayloadError, isResourceLimitError, isRoutineError, isWorkerCrashedError, ResourceLimitError, WorkerCrashedError, type ErrorStrategy } from 'slotflow';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { counter, failing } from './fixtures/routines.js';

const runtime = useRuntimes();
const T = 30_000;

type How = 'throw' | 'exit' | 'crash' | 'oom' | 'emit-function' | 'reject-string';

function failingFlow(id: string, onError: ErrorStrategy = 'stop', extra: { resourceLimits?: { maxOldGenerationSizeMb: number } } = {}) {
  return createFlow(id).add('scorer', failing, { onError, ...extra }).entry('scorer', 'input');
}

async function failWith(how: How, params: Record<string, unknown> = {}) {
  const rt = runtime();
  const state = await rt.exec(failingFlow(`fail-${how}`), { params: { how, ...params } }).wait();
  expect(state.status).toBe('failed');
  expect(isRoutineError(state.error)).toBe(true);
  return { rt, state, cause: (state.error as Error).cause as Error };
}

describe('threaded activation failures', () => {
  it('an error thrown by run keeps its name, message and data, as inline', async () => {
    const { state, cause } = await failWith('throw');
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe('RangeError');
    expect(cause.message).toBe('score out of range');
    expect((cause as Error & { code?: string }).code).toBe('E_RANGE');
    expect(cause.stack).toContain('routines.ts');
    expect(state.history[0]?.outcome).toBe('error');
  }, T);

  it('a thrown non-Error value is a NonErrorThrownError, as inline', async () => {
    const { cause } = await failWith('reject-string');
    expect(isNonErrorThrownError(cause)).toBe(true);
    expect((cause as unknown as { value: unknown }).value).toBe('plain string');
  }, T);

  it('process.exit() in the thread is a WorkerCrashedError, and the pool replaces the thread', async () => {
    const { rt, cause } = await failWith('exit');
    expect(isWorkerCrashedError(cause)).toBe(true);
    expect(cause).toBeInstanceOf(WorkerCrashedError);
    expect(cause.name).toBe('WorkerCrashedError');
    expect(cause.message).toContain("routine 'scorer'");
    expect(cause.message).toContain("definition 'failing'");
    expect(cause.message).toContain('exited with code 3');
    // The process is alive and the pool runs the next threaded activation on a new thread.
    const next = await rt.exec(createFlow('after-exit').add('c', counter).entry('c', 'input'), { params: { count: 2, stepMs: 1 } }).wait();
    expect(next.status).toBe('completed');
    expect(next.outputs['c.tick']).toEqual([{ n: 0 }, { n: 1 }]);
  }, T);

  it('an uncaught exception in the thread outside run is a WorkerCrashedError', async () => {
    const { cause } = await failWith('crash');
    expect(isWorkerCrashedError(cause)).toBe(true);
    expect(cause.message).toContain('uncaught in the thread');
    expect((cause as WorkerCrashedError).routineId).toBe('scorer');
  }, T);

  it('a thread over its resourceLimits is a ResourceLimitError naming the routine and the limit', async () => {
    const rt = runtime();
    const state = await rt.exec(failingFlow('oom', 'stop', { resourceLimits: { maxOldGenerationSizeMb: 32 } }), { params: { how: 'oom' } }).wait();
    expect(state.status).toBe('failed');
    const cause = (state.error as Error).cause as ResourceLimitError;
    expect(isResourceLimitError(cause)).toBe(true);
    expect(cause).toBeInstanceOf(ResourceLimitError);
    expect(cause.name).toBe('ResourceLimitError');
    expect(cause.routineId).toBe('scorer');
    expect(cause.limits).toEqual({ maxOldGenerationSizeMb: 32 });
    expect(cause.message).toContain('maxOldGenerationSizeMb: 32');
    expect(cause.message).toContain("routine 'scorer'");
  }, T);

  it('a slot payload that cannot be copied is a PayloadError naming the slot', async () => {
    const { cause } = await failWith('throw', { callback: () => 1 });
    expect(isPayloadError(cause)).toBe(true);
    expect(cause.message).toContain("slot 'input'");
    expect(cause.message).toContain("routine 'scorer'");
  }, T);

  it('an emitted payload that cannot be copied is a PayloadError naming the event', async () => {
    const { state, cause } = await failWith('emit-function');
    expect(isPayloadError(cause)).toBe(true);
    expect(cause.message).toContain("event 'output'");
    expect(state.outputs['scorer.output']).toBeUndefined();
  }, T);

  it('each failure goes through the error strategy: retry, then continue', async () => {
    const rt = runtime();
    const flow = failingFlow('retrying', { retry: { max: 2 }, then: 'continue' });
    const state = await rt.exec(flow, { params: { how: 'exit' } }).wait();
    expect(state.status).toBe('completed');
    expect(state.history.map((h) => h.outcome)).toEqual(['retried', 'retried', 'error']);
    expect(state.history.every((h) => isWorkerCrashedError(h.error))).toBe(true);
    expect(state.routines.scorer?.errors).toBe(3);
  }, T);

  it('a crashing job does not disturb another job computing on another thread', async () => {
    const rt = runtime({ threads: { max: 2 } });
    const steady = rt.exec(createFlow('steady').add('c', counter).entry('c', 'input'), { params: { count: 5, stepMs: 50 } });
    const crashing = rt.exec(failingFlow('crashing'), { params: { how: 'crash' } });
    const [ok, failed] = await Promise.all([steady.wait(), crashing.wait()]);
    expect(failed.status).toBe('failed');
    expect(ok.status).toBe('completed');
    expect(ok.outputs['c.tick']).toHaveLength(5);
  }, T);
});
