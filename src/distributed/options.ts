/**
 * The options shared by the worker and the producer, checked once: unknown keys, the queue name, and the numbers.
 */
import { InvalidOptionError } from 'slotflow';

export const DEFAULT_MAX_EVENTS = 10_000;
/** A finished job's records are kept this long (one day): long enough for a late `wait()`, short enough to not pile up. */
export const DEFAULT_RETAIN_FINISHED_MS = 86_400_000;

interface Checked {
  readonly queue: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly connectTimeoutMs: number;
  readonly maxEvents: number;
  readonly retainFinishedMs: number;
}

const POSITIVE = ['concurrency', 'lockDurationMs', 'stalledIntervalMs', 'connectTimeoutMs', 'maxEvents'] as const;

/** Checks `options` and fills defaults; throws `InvalidOptionError` naming the option. */
export function assertOptions(where: string, options: unknown, known: readonly string[], defaults: Omit<Checked, 'queue' | 'prefix'>): Checked {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError(where, 'an options object', options);
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given))
    if (!known.includes(key)) throw new InvalidOptionError(`${where}.${key}`, `a known option (one of ${known.map((k) => `'${k}'`).join(', ')})`, given[key]);
  if (given.connection === undefined) throw new InvalidOptionError(`${where}.connection`, "a redis:// URL, ioredis options or an IORedis instance", undefined);
  const queue = given.queue ?? 'slotflow';
  if (typeof queue !== 'string' || queue === '' || queue.includes(':')) throw new InvalidOptionError(`${where}.queue`, "a non-empty queue name without ':'", queue);
  const prefix = given.prefix ?? 'bull';
  if (typeof prefix !== 'string' || prefix === '') throw new InvalidOptionError(`${where}.prefix`, 'a non-empty string', prefix);
  const out: Record<string, unknown> = { ...defaults, queue, prefix };
  for (const key of POSITIVE) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new InvalidOptionError(`${where}.${key}`, 'a positive integer', value);
    out[key] = value;
  }
  const retain = given.retainFinishedMs;
  if (retain !== undefined) {
    if (typeof retain !== 'number' || !(retain === Number.POSITIVE_INFINITY || (Number.isInteger(retain) && retain > 0)))
      throw new InvalidOptionError(`${where}.retainFinishedMs`, 'a positive integer of milliseconds, or Infinity to keep finished jobs', retain);
    out.retainFinishedMs = retain;
  }
  const stalls = given.maxStalledCount;
  if (stalls !== undefined) {
    if (typeof stalls !== 'number' || !Number.isInteger(stalls) || stalls < 0) throw new InvalidOptionError(`${where}.maxStalledCount`, 'a non-negative integer', stalls);
    out.maxStalledCount = stalls;
  }
  return out as unknown as Checked;
}
