/**
 * useDistributedTest: what the producer-side test files share: a throw-away redis-server, the test flows (their
 * routines' calls recorded in it), a fresh queue name per test, a producer with its worker on that queue, and
 * everything a test opened closed after it.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createDistributedRuntime, createWorker, type DistributedRuntime, type DistributedWorker } from 'slotflow/distributed';
import { testFlows } from './fixtures/flows.js';
import { useRedisServer } from './useRedisServer.js';

export interface DistributedTest {
  readonly server: { readonly url: string; readonly port: number };
  /** The test flows (read inside tests and hooks: they are made in `beforeAll`). */
  readonly fixtures: ReturnType<typeof testFlows>;
  /** Producers and workers to close after the test. */
  readonly opened: { close(): Promise<void> }[];
  /** A queue name no other test of the file uses: `<prefix><n>`. */
  nextQueue(): string;
  /**
   * A producer on a fresh queue (`flows`: given the test flows, for checks at exec), and `worker()` to start a worker
   * on it when the test wants one (short lock and stall check, errors ignored); both closed after the test.
   */
  pair(options?: { readonly flows?: boolean; readonly retainFinishedMs?: number }): { queue: string; producer: DistributedRuntime; worker: () => Promise<DistributedWorker> };
}

export function useDistributedTest(prefix: string): DistributedTest {
  const server = useRedisServer();
  let fixtures: ReturnType<typeof testFlows> | undefined;
  const opened: { close(): Promise<void> }[] = [];
  let queueNo = 0;
  beforeAll(() => {
    fixtures = testFlows(server.url, 5);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  afterAll(async () => {
    await fixtures?.close();
  });
  const test: DistributedTest = {
    server,
    get fixtures() {
      if (!fixtures) throw new Error('the test flows are made in beforeAll: read them inside a test or hook');
      return fixtures;
    },
    opened,
    nextQueue: () => `${prefix}${String(++queueNo)}`,
    pair(options = {}) {
      const queue = test.nextQueue();
      const producer = createDistributedRuntime({ connection: server.url, queue, ...(options.flows ? { flows: test.fixtures.flows } : {}) });
      opened.push(producer);
      return {
        queue,
        producer,
        worker: async () => {
          const worker = createWorker({ connection: server.url, queue, flows: test.fixtures.flows, lockDurationMs: 2_000, stalledIntervalMs: 1_000, onError: () => undefined, ...(options.retainFinishedMs === undefined ? {} : { retainFinishedMs: options.retainFinishedMs }) });
          opened.push(worker);
          await worker.ready();
          return worker;
        },
      };
    },
  };
  return test;
}
