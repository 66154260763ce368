/**
 * The Lua scripts that fence a worker's writes with the BullMQ lock token of the job it holds. Each checks
 * `<job key>:lock` and writes only while it still holds the caller's token, in one atomic step: a worker whose lock
 * expired (it stalled, and another worker took the job) can no longer overwrite the new owner's checkpoint or add
 * events to the job's stream. They return 1 when written, 0 when fenced off.
 */
import type { Redis } from 'ioredis';

/** KEYS: lock, job hash. ARGV: token, snapshot, state, status, cursor. */
const SAVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'snapshot', ARGV[2], 'state', ARGV[3], 'status', ARGV[4], 'cursor', ARGV[5])
return 1`;

/** KEYS: lock, events stream. ARGV: token, max length, event... */
const APPEND = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 3, #ARGV do redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i]) end
return 1`;

/** KEYS: lock, job hash, events stream. ARGV: token, max length, state, status, final event. */
const FINISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[3], 'status', ARGV[4])
redis.call('HDEL', KEYS[2], 'snapshot')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[5])
return 1`;

export interface FencedRedis extends Redis {
  slotflowSave(lock: string, hash: string, token: string, snapshot: string, state: string, status: string, cursor: number): Promise<number>;
  slotflowAppend(lock: string, stream: string, token: string, maxLen: number, ...events: string[]): Promise<number>;
  slotflowFinish(lock: string, hash: string, stream: string, token: string, maxLen: number, state: string, status: string, event: string): Promise<number>;
}

/** Adds the scripts to a connection (ioredis sends EVALSHA, loading a script on its first use). */
export function withScripts(redis: Redis): FencedRedis {
  redis.defineCommand('slotflowSave', { numberOfKeys: 2, lua: SAVE });
  redis.defineCommand('slotflowAppend', { numberOfKeys: 2, lua: APPEND });
  redis.defineCommand('slotflowFinish', { numberOfKeys: 3, lua: FINISH });
  return redis as FencedRedis;
}
