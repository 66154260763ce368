/**
 * Threaded routines in slotflow/testing's runtime: mocks and injected failures (functions of the test) apply, so
 * such routines run inline there.
 */
import { createFlow } from 'slotflow';
import { createTestRuntime } from 'slotflow/testing';
import { describe, expect, it } from 'vitest';
import { counter } from './fixtures/routines.js';

describe('createTestRuntime with a threaded routine', () => {
  it('runs the mock of a threaded routine, and the routine itself when not mocked', async () => {
    await using rt = createTestRuntime();
    const flow = createFlow('mocked').add('c', counter).entry('c', 'input');
    rt.mock<typeof counter>('c', ({ emit }) => {
      emit('tick', { n: 42 });
    });
    const mocked = rt.exec(flow, { params: { count: 3, stepMs: 0 } });
    await rt.settle();
    expect(mocked.state.outputs['c.tick']).toEqual([{ n: 42 }]);

    await using plain = createTestRuntime();
    const real = plain.exec(createFlow('real').add('c', counter).entry('c', 'input'), { params: { count: 2, stepMs: 0 } });
    await plain.settle();
    expect(real.state.outputs['c.tick']).toEqual([{ n: 0 }, { n: 1 }]);
  });

  it('injects a failure into a threaded routine', async () => {
    await using rt = createTestRuntime();
    rt.fail('c', new Error('injected'));
    const job = rt.exec(createFlow('failing').add('c', counter).entry('c', 'input'), { params: { count: 1, stepMs: 0 } });
    await rt.settle();
    expect(job.state.status).toBe('failed');
    expect(((job.state.error as Error).cause as Error).message).toBe('injected');
  });
});
