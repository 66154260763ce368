/**
 * useDistributedTest: what the producer-side test files share: a throw-away redis-server, the test flows (their
 * routines' calls recorded in it), a fresh queue name per test, and everything a test opened closed after it.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
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
  return {
    server,
    get fixtures() {
      if (!fixtures) throw new Error('the test flows are made in beforeAll: read them inside a test or hook');
      return fixtures;
    },
    opened,
    nextQueue: () => `${prefix}${String(++queueNo)}`,
  };
}
