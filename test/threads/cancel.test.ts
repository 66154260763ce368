/**
 * Cancelling and timing out threaded activations: the thread's own signal aborts, and a thread that ignores it is
 * terminated. Termination is proven by a single thread place (`threads.max: 1`) being free again for the next
 * activation long before the ignored computation (60 s) could have ended by itself.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { ActivationTimeoutError, createFlow, isActivationTimeoutError, isJobCancelledError } from 'slotflow';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { counter, stubborn } from './fixtures/routines.js';

const runtime = useRuntimes();
const T = 30_000;
let channels = 0;

/** A channel the threads of this test post to, and the next message on it that matches. */
function listen() {
  const name = `slotflow-cancel-${process.pid}-${channels++}`;
  const channel = new BroadcastChannel(name);
  const messages: Record<string, unknown>[] = [];
  const waiters: { test: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  channel.onmessage = (event) => {
    const message = (event as unknown as { data: Record<string, unknown> }).data;
    messages.push(message);
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(message)) waiter.resolve(message);
      else waiters.push(waiter);
    }
  };
  return {
    name,
    next: (test: (m: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const seen = messages.find(test);
        if (seen) resolve(seen);
        else waiters.push({ test, resolve });
      }),
    close: () => {
      channel.close();
    },
  };
}

const quick = createFlow('quick').add('c', counter).entry('c', 'input');

describe('threaded activations and their signal', () => {
  it("delivers the job's cancel to the thread's own AbortSignal", async () => {
    const rt = runtime();
    const channel = listen();
    try {
      const job = rt.exec(createFlow('coop').add('s', stubborn).entry('s', 'input'), { params: { ms: 0, cooperate: true, channel: channel.name } });
      await channel.next((m) => m.started === true);
      job.cancel('enough');
      const state = await job.wait();
      expect(state.status).toBe('cancelled');
      const aborted = await channel.next((m) => 'aborted' in m);
      expect(aborted.aborted).toBe('JobCancelledError');
    } finally {
      channel.close();
    }
  }, T);

  it('terminates a thread that ignores its signal past the cancel; the job is cancelled at once', async () => {
    const rt = runtime({ threads: { max: 1 } });
    const channel = listen();
    try {
      const job = rt.exec(createFlow('ignore').add('s', stubborn).entry('s', 'input'), { params: { ms: 60_000, channel: channel.name } });
      await channel.next((m) => m.started === true);
      job.cancel();
      const state = await job.wait();
      expect(state.status).toBe('cancelled');
      expect(isJobCancelledError(state.error)).toBe(true);
      expect(state.history.at(-1)?.outcome).toBe('cancelled');
      // The only thread place is free again: the 60 s computation was cut short.
      const next = await rt.exec(quick, { params: { count: 1, stepMs: 1 } }).wait();
      expect(next.status).toBe('completed');
    } finally {
      channel.close();
    }
  }, T);

  it('ends an activation past its timeoutMs by terminating its thread, through the error strategy', async () => {
    const rt = runtime({ threads: { max: 1 } });
    const flow = createFlow('slow').add('s', stubborn, { timeoutMs: 300, onError: 'continue' }).entry('s', 'input');
    const state = await rt.exec(flow, { params: { ms: 60_000 } }).wait();
    expect(state.status).toBe('completed');
    expect(state.history[0]?.outcome).toBe('timeout');
    expect(isActivationTimeoutError(state.history[0]?.error)).toBe(true);
    expect((state.history[0]?.error as ActivationTimeoutError).routineId).toBe('s');
    expect(state.outputs['s.output']).toBeUndefined();
    const next = await rt.exec(quick, { params: { count: 1, stepMs: 1 } }).wait();
    expect(next.status).toBe('completed');
  }, T);

  it('shutdown cancels a computing threaded job and ends its thread', async () => {
    const rt = runtime();
    const channel = listen();
    try {
      const job = rt.exec(createFlow('shut').add('s', stubborn).entry('s', 'input'), { params: { ms: 60_000, channel: channel.name } });
      await channel.next((m) => m.started === true);
      await rt.shutdown();
      expect(job.status).toBe('cancelled');
    } finally {
      channel.close();
    }
  }, T);
});
