/**
 * useRedisServer: a throw-away redis-server for the tests of one file, started before them and stopped after.
 * Read `url` (or `port`) inside tests and hooks, not at import time: the server starts in `beforeAll`.
 */
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisServer } from './redisServer.js';

export function useRedisServer(): { readonly url: string; readonly port: number } {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);
  const started = (): RedisServer => {
    if (!server) throw new Error('the redis-server of this file is not started yet: read url/port inside a test or hook');
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get port() {
      return started().port;
    },
  };
}
