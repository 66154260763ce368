/**
 * Testing your flows (slotflow/testing): the test file a user writes for their own flow, run by vitest.
 *
 * The flow under test fetches prices from an API (retrying on failure, with backoff and a timeout), batches them in
 * a 1-second window, and reports each batch. In the tests no network call is made and no real time passes: the API
 * routine is mocked or made to fail, and time moves only when the test advances the clock.
 */
import { ActivationTimeoutError, createFlow, defineRoutine, policies, RoutineError } from 'slotflow';
import { createTestRuntime } from 'slotflow/testing';
import { describe, expect, it } from 'vitest';

// --- the flow under test (in an application, imported from its own module) ---

const fetchPrice = defineRoutine({
  name: 'fetchPrice',
  slots: ['symbol'],
  events: { price: ['symbol', 'price'] },
  config: { baseUrl: 'https://prices.example.com' },
  onError: { retry: { max: 3, backoffMs: 100 } }, // waits 100, 200, then 400 ms before retries
  timeoutMs: 2_000,
  async run({ slots, config, emit, signal }) {
    for (const { symbol } of slots.symbol) {
      const response = await fetch(`${config.baseUrl}/${String(symbol)}`, { signal });
      const { price } = (await response.json()) as { price: number };
      emit('price', { symbol, price });
    }
  },
});

const report = defineRoutine({
  name: 'report',
  slots: ['prices'],
  events: { batch: ['symbols', 'total'] },
  policy: policies.window(1_000), // everything that arrives within a second, in one activation
  run({ slots, emit }) {
    emit('batch', {
      symbols: slots.prices.map((p) => p.symbol),
      total: slots.prices.reduce((sum, p) => sum + Number(p.price), 0),
    });
  },
});

const pricesFlow = () => createFlow('prices').add('fetch', fetchPrice).add('report', report).connect('fetch.price', 'report.prices');

// --- the tests ---

/** Answers like the real API, without the network. */
const cannedPrices: Record<string, number> = { ACME: 10, INITECH: 32 };

describe('the prices flow', () => {
  it('fetches each symbol and reports them in one batch when the window closes', async () => {
    await using rt = createTestRuntime();
    rt.mock<typeof fetchPrice>('fetch', ({ slots, emit }) => {
      for (const { symbol } of slots.symbol) emit('price', { symbol, price: cannedPrices[String(symbol)] });
    });
    rt.register(pricesFlow());

    const job = rt.exec('prices', { params: { symbol: 'ACME' }, keepAlive: true });
    await rt.send(job, 'fetch', 'symbol', { symbol: 'INITECH' });
    expect(rt.callCount(job, 'report')).toBe(0); // the window is still open

    await rt.clock.advance(1_000);
    expect(rt.executionOrder(job)).toEqual(['fetch', 'fetch', 'report']);
    expect(job.state.outputs['report.batch']).toEqual([{ symbols: ['ACME', 'INITECH'], total: 42 }]);
  });

  it('retries a failing API with backoff, then goes on', async () => {
    await using rt = createTestRuntime();
    rt.fail('fetch', new Error('503 Service Unavailable'), { times: 2 });
    rt.mock('fetch', ({ emit }) => {
      emit('price', { symbol: 'ACME', price: 10 });
    });

    const job = rt.exec(pricesFlow(), { params: { symbol: 'ACME' } });
    await rt.settle();
    expect(rt.callCount(job, 'fetch')).toBe(1);
    await rt.clock.advance(100); // first retry, fails again
    expect(rt.callCount(job, 'fetch')).toBe(2);
    await rt.clock.advance(200 + 1_000); // second retry succeeds, then the report window closes

    expect(job.status).toBe('completed');
    expect(rt.executionOrder(job)).toEqual(['fetch', 'fetch', 'fetch', 'report']);
    expect(job.state.history.map((h) => h.outcome)).toEqual(['retried', 'retried', 'ok', 'ok']);
  });

  it('fails the job when the API never answers within the timeout, retries included', async () => {
    await using rt = createTestRuntime();
    rt.mock('fetch', async ({ signal }) => {
      await rt.clock.sleep(60_000, signal); // a call that hangs: only the timeout ends it
    });

    const job = rt.exec(pricesFlow(), { params: { symbol: 'ACME' } });
    await rt.clock.advance(4 * 2_000 + 100 + 200 + 400); // four attempts of 2 s, and the backoff between them

    expect(job.status).toBe('failed');
    expect(rt.callCount(job, 'fetch')).toBe(4);
    expect(job.error).toBeInstanceOf(RoutineError);
    expect((job.error as RoutineError).cause).toBeInstanceOf(ActivationTimeoutError);
  });
});
