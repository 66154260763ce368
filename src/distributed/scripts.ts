/**
 * The Lua scripts of slotflow/distributed, one round trip each.
 *
 * The worker's writes are fenced with the BullMQ lock token of the job it holds: each checks `<job key>:lock` and
 * writes only while it still holds the caller's token, in one atomic step, so a worker whose lock expired (it
 * stalled, and another worker took the job) can no longer overwrite the new owner's checkpoint or add events to the
 * job's stream. They return 1 when written, 0 when fenced off.
 */
import type { Redis } from 'ioredis';

/**
 * Appends one write's events to the stream KEYS[k] as one entry (`b`: a JSON array of them, in order; '' = none),
 * capped at `cap` entries, approximately. One entry per write, not one per event: a job's dozen events of a
 * checkpoint cost Redis one XADD and the worker one argument (`eventBatch` computes the cap from the events wanted).
 */
const XADD_BATCH = `
local function xaddBatch(stream, cap, batch)
  if batch ~= '' then redis.call('XADD', stream, 'MAXLEN', '~', cap, '*', 'b', batch) end
end`;

/** KEYS: lock, job hash, events stream. ARGV: token, stream cap, snapshot, status, cursor, events. */
const SAVE = `${XADD_BATCH}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'snapshot', ARGV[3], 'status', ARGV[4], 'cursor', ARGV[5])
xaddBatch(KEYS[3], ARGV[2], ARGV[6])
return 1`;

/** KEYS: lock, job hash, events stream. ARGV: token, stream cap, status ('' = as it is), events. */
const APPEND = `${XADD_BATCH}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'status', ARGV[3]) end
xaddBatch(KEYS[3], ARGV[2], ARGV[4])
return 1`;

/**
 * KEYS: lock, job hash, events stream, control list, replies hash, jobs (sorted set), expiring (sorted set).
 * ARGV: token ('' = the job's lock must be gone instead, and its status not final yet), stream cap, state, status,
 * retention ms (0 = keep), now, events (the final event last).
 *
 * Writes the final state and events, then gives the job's keys their retention and drops from `jobs` the ids whose
 * retention ran out (at most 100 per call, so the cost is spread over finishing jobs).
 */
const FINISH = `${XADD_BATCH}
if ARGV[1] == '' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  local status = redis.call('HGET', KEYS[2], 'status')
  if status == 'completed' or status == 'failed' or status == 'cancelled' then return 0 end
elseif redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[3], 'status', ARGV[4])
redis.call('HDEL', KEYS[2], 'snapshot')
xaddBatch(KEYS[3], ARGV[2], ARGV[7])
local retention = tonumber(ARGV[5])
if retention > 0 then
  local now = tonumber(ARGV[6])
  for i = 2, 5 do redis.call('PEXPIRE', KEYS[i], retention) end
  local id = string.match(KEYS[2], ':job:(.*)$')
  redis.call('ZADD', KEYS[7], now + retention, id)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now, 'LIMIT', 0, 100)
  if #gone > 0 then
    redis.call('ZREM', KEYS[6], unpack(gone))
    redis.call('ZREM', KEYS[7], unpack(gone))
  end
end
return 1`;

/**
 * The producer's control message. KEYS: job hash, control list, lock. ARGV: message, channel, job id.
 * Returns [status or '' for no such job, 1 when a worker holds the job now]; a finished (or unknown) job gets
 * nothing appended.
 */
const SEND = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'', 0} end
if status == 'completed' or status == 'failed' or status == 'cancelled' then return {status, 0} end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return {status, redis.call('EXISTS', KEYS[3])}`;

/**
 * New jobs' records, several at once. KEYS: jobs, then each job's hash and BullMQ's key of the same id. ARGV: now,
 * then id and flow id of each job. Returns, per job, 1 when recorded and 0 when its id is taken: by an older job
 * (earlier in the same call included), or by a job BullMQ still keeps (a failed one, say, whose slotflow records
 * expired), which BullMQ's add would silently take for this one.
 */
const CREATE_MANY = `
local now = ARGV[1]
local out = {}
for i = 1, (#KEYS - 1) / 2 do
  local hash = KEYS[2 * i]
  local id, flow = ARGV[2 * i], ARGV[2 * i + 1]
  if redis.call('EXISTS', hash, KEYS[2 * i + 1]) > 0 then
    out[i] = 0
  else
    redis.call('HSET', hash, 'flowId', flow, 'status', 'queued', 'createdAt', now)
    redis.call('ZADD', KEYS[1], now, id)
    out[i] = 1
  end
end
return out`;

/**
 * One write's events (JSON-ready objects) as one stream entry, serialised in one call, and the stream's cap in
 * entries that keeps about `maxEvents` events when writes are of this size. `['', …]` when there are none.
 */
export function eventBatch(events: readonly object[], maxEvents: number): [cap: number, batch: string] {
  if (events.length === 0) return [1, ''];
  return [Math.max(1, Math.floor(maxEvents / events.length)), JSON.stringify(events)];
}

export interface FencedRedis extends Redis {
  slotflowSave(lock: string, hash: string, stream: string, token: string, cap: number, snapshot: string, status: string, cursor: number, events: string): Promise<number>;
  slotflowAppend(lock: string, hash: string, stream: string, token: string, cap: number, status: string, events: string): Promise<number>;
  slotflowFinish(
    lock: string,
    hash: string,
    stream: string,
    control: string,
    replies: string,
    jobs: string,
    expiring: string,
    token: string,
    cap: number,
    state: string,
    status: string,
    retentionMs: number,
    now: number,
    events: string,
  ): Promise<number>;
}

export interface ProducerRedis extends Redis {
  slotflowSend(hash: string, control: string, lock: string, message: string, channel: string, jobId: string): Promise<[string, number]>;
  /** `keyCount` is 1 + twice the number of jobs; then the jobs key, each job's hash and BullMQ key, now, and each id and flow id. */
  slotflowCreateMany(keyCount: number, ...keysAndArgs: (string | number)[]): Promise<number[]>;
}

/** Adds the worker's scripts to a connection (ioredis sends EVALSHA, loading a script on its first use). */
export function withScripts(redis: Redis): FencedRedis {
  redis.defineCommand('slotflowSave', { numberOfKeys: 3, lua: SAVE });
  redis.defineCommand('slotflowAppend', { numberOfKeys: 3, lua: APPEND });
  redis.defineCommand('slotflowFinish', { numberOfKeys: 7, lua: FINISH });
  return redis as FencedRedis;
}

/** Adds the producer's scripts to a connection. */
export function withProducerScripts(redis: Redis): ProducerRedis {
  redis.defineCommand('slotflowSend', { numberOfKeys: 3, lua: SEND });
  redis.defineCommand('slotflowCreateMany', { lua: CREATE_MANY });
  return redis as ProducerRedis;
}
