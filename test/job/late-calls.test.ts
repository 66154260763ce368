/**
 * A routine that calls its context after its activation settled (it timed out, or its job ended) gets an
 * `ActivationEndedError` naming the routine and the call, whatever the call.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, defineRoutine, isActivationEndedError, type RunContext } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { useRuntimes } from '../helpers/runtimes.js';

const makeRuntime = useRuntimes();

type Ctx = RunContext<{ in: Record<string, unknown> }, { out: Record<string, unknown> }, Record<string, unknown>, { n: number }>;
const CALLS: readonly [string, (ctx: Ctx) => void][] = [
  ['setState()', (ctx) => ctx.setState({ n: 1 })],
  ['setShared()', (ctx) => ctx.setShared({ a: 1 })],
  ['log()', (ctx) => ctx.log('late')],
  ["emit('out')", (ctx) => ctx.emit('out', {})],
];

describe('a late call on the run context', () => {
  it.each(CALLS)('%s after the job was cancelled throws ActivationEndedError naming the routine and the call', async (call, late) => {
    const gate = deferred();
    let thrown: unknown;
    const slow = defineRoutine({
      name: 'slow',
      slots: ['in'],
      events: { out: [] },
      initialState: { n: 0 },
      async run(ctx) {
        await gate.promise;
        try {
          late(ctx);
        } catch (error) {
          thrown = error;
        }
      },
    });
    const job = makeRuntime().exec(createFlow('late').add('slow_routine', slow));
    await new Promise((resolve) => setImmediate(resolve));
    job.cancel('enough');
    await job.wait();
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(isActivationEndedError(thrown)).toBe(true);
    expect((thrown as Error).message).toContain("'slow_routine'");
    expect((thrown as Error).message).toContain(call);
  });
});
