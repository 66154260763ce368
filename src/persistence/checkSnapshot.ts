/**
 * checkSnapshot: every field of a (current-version) job snapshot, checked before any of it reaches a job. A
 * snapshot is data from a file or a database, so it is treated as untrusted: a wrong type, a negative counter or a
 * key that would change an object's prototype (`__proto__`) is a problem naming its path, never a crash later inside
 * the running job.
 */
import { describeValue } from '../errors/index.js';
import { JOB_STATUSES } from '../types/JobStatus.js';

type Raw = Record<string, unknown>;

const STATUSES: ReadonlySet<string> = new Set(JOB_STATUSES);
const MACHINES: ReadonlySet<string> = new Set(['idle', 'running', 'backoff', 'skipped', 'stopped']);
const OUTCOMES: ReadonlySet<string> = new Set(['ok', 'error', 'retried', 'timeout', 'cancelled']);

const isRecord = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Every problem of `raw` as a snapshot, each naming its field; empty when it is fine. */
export function checkSnapshot(raw: Raw, jobId: string | undefined): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, field: string, expected: string, value: unknown): void => {
    if (!ok) problems.push(`'${field}' must be ${expected}, got ${describeValue(value)}`);
  };
  const optional = (field: string, check: (value: unknown) => boolean, expected: string): void => {
    const value = raw[field];
    expect(value === undefined || check(value), field, expected, value);
  };
  // First: no key anywhere may be `__proto__` (copying such an object changes a prototype instead of a key).
  const proto = findProtoKey(raw, '');
  if (proto !== undefined) problems.push(`'${proto}' is an own '__proto__' key, which no snapshot written by slotflow holds`);

  expect(jobId !== undefined, 'jobId', 'a non-empty string', raw.jobId);
  expect(typeof raw.flowId === 'string' && raw.flowId !== '', 'flowId', 'a non-empty string', raw.flowId);
  expect(typeof raw.status === 'string' && STATUSES.has(raw.status), 'status', `a job status (${[...STATUSES].join(', ')})`, raw.status);
  for (const field of ['savedAt', 'startedAt'] as const) expect(isTime(raw[field]), field, 'a finite number (clock milliseconds)', raw[field]);
  for (const field of ['finishedAt', 'deadlineAt'] as const) optional(field, isTime, 'a finite number (clock milliseconds)');
  optional('timeoutMs', (v) => isTime(v) && v >= 0, 'a number of milliseconds from 0 up');
  for (const field of ['keepAlive', 'admitted'] as const) expect(typeof raw[field] === 'boolean', field, 'a boolean', raw[field]);
  optional('completing', (v) => typeof v === 'boolean', 'a boolean');
  optional('params', isRecord, 'an object');
  optional('error', isSerializedError, 'an error as data ({ name, message })');
  for (const field of ['outputs', 'shared', 'cycles', 'routines'] as const) expect(isRecord(raw[field]), field, 'an object', raw[field]);
  for (const field of ['log', 'history'] as const) expect(Array.isArray(raw[field]), field, 'an array', raw[field]);
  if (raw.initial !== undefined)
    expect(isRecord(raw.initial) && typeof raw.initial.routine === 'string' && typeof raw.initial.slot === 'string' && isRecord(raw.initial.payload), 'initial', '{ routine, slot, payload }', raw.initial);

  if (isRecord(raw.outputs))
    for (const [key, payloads] of Object.entries(raw.outputs)) {
      expect(/^[^.]+\.[^.]+$/.test(key), `outputs.${key}`, "keyed by '<routine>.<event>'", key);
      expect(Array.isArray(payloads), `outputs.${key}`, 'an array', payloads);
    }
  if (isRecord(raw.cycles))
    for (const [edge, record] of Object.entries(raw.cycles))
      expect(isRecord(record) && isCount(record.iterations) && typeof record.converged === 'boolean', `cycles.${edge}`, '{ iterations: integer from 0 up, converged: boolean }', record);
  if (Array.isArray(raw.history))
    raw.history.forEach((record: unknown, i) => {
      const at = `history[${String(i)}]`;
      if (!isRecord(record)) {
        expect(false, at, 'a history record', record);
        return;
      }
      expect(typeof record.routineId === 'string', `${at}.routineId`, 'a string', record.routineId);
      expect(isCount(record.attempt), `${at}.attempt`, 'an integer from 0 up', record.attempt);
      for (const field of ['startedAt', 'finishedAt'] as const) expect(isTime(record[field]), `${at}.${field}`, 'a finite number', record[field]);
      expect(isTime(record.durationMs) && record.durationMs >= 0, `${at}.durationMs`, 'a number from 0 up', record.durationMs);
      for (const field of ['consumed', 'emitted'] as const) expect(isCountMap(record[field]), `${at}.${field}`, 'a map of names to integers from 0 up', record[field]);
      expect(typeof record.outcome === 'string' && OUTCOMES.has(record.outcome), `${at}.outcome`, `one of ${[...OUTCOMES].join(', ')}`, record.outcome);
      expect(record.error === undefined || isSerializedError(record.error), `${at}.error`, 'an error as data ({ name, message })', record.error);
    });
  if (isRecord(raw.routines))
    for (const [id, routine] of Object.entries(raw.routines)) checkRoutine(`routines.${id}`, routine, expect);
  return problems;
}

function checkRoutine(at: string, routine: unknown, expect: (ok: boolean, field: string, expected: string, value: unknown) => void): void {
  if (!isRecord(routine)) {
    expect(false, at, 'an object', routine);
    return;
  }
  const machine = routine.machine;
  expect(typeof machine === 'string' && MACHINES.has(machine), `${at}.machine`, `one of ${[...MACHINES].join(', ')}`, machine);
  expect(isQueueMap(routine.queues), `${at}.queues`, 'a map of slots to arrays', routine.queues);
  for (const field of ['activations', 'errors'] as const) expect(isCount(routine[field]), `${at}.${field}`, 'an integer from 0 up', routine[field]);
  for (const field of ['retryAt', 'lastActivationAt', 'firstArrivalAt'] as const)
    expect(routine[field] === undefined || isTime(routine[field]), `${at}.${field}`, 'a finite number (clock milliseconds)', routine[field]);
  const inflight = routine.inflight;
  if (inflight !== undefined) {
    if (!isRecord(inflight)) expect(false, `${at}.inflight`, "an object with 'consumed' and 'attempt'", inflight);
    else {
      expect(isQueueMap(inflight.consumed), `${at}.inflight.consumed`, 'a map of slots to arrays', inflight.consumed);
      expect(inflight.counts === undefined || isCountMap(inflight.counts), `${at}.inflight.counts`, 'a map of slots to integers from 0 up', inflight.counts);
      expect(inflight.message === undefined || (isRecord(inflight.message) && typeof inflight.message.reason === 'string'), `${at}.inflight.message`, '{ reason: string }', inflight.message);
      expect(isCount(inflight.attempt), `${at}.inflight.attempt`, 'an integer from 0 up', inflight.attempt);
      expect(inflight.delivered === undefined || isCount(inflight.delivered), `${at}.inflight.delivered`, 'an integer from 0 up', inflight.delivered);
    }
  }
  expect(inflight !== undefined || (machine !== 'running' && machine !== 'backoff'), `${at}.inflight`, `present when the routine is '${String(machine)}'`, inflight);
}

function isQueueMap(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every(Array.isArray);
}

function isCountMap(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every(isCount);
}

function isSerializedError(value: unknown): boolean {
  return isRecord(value) && typeof value.name === 'string' && typeof value.message === 'string';
}

/** The path of the first own `__proto__` key in `value` (iterative: data may be deep), or `undefined`. */
function findProtoKey(value: unknown, path: string): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path }];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value: current, path: at } = stack.pop() as (typeof stack)[number];
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if (Array.isArray(current)) {
      current.forEach((item: unknown, i) => stack.push({ value: item, path: `${at}[${String(i)}]` }));
      continue;
    }
    for (const key of Object.keys(current)) {
      const next = at === '' ? key : `${at}.${key}`;
      if (key === '__proto__') return next;
      stack.push({ value: (current as Raw)[key], path: next });
    }
  }
  return undefined;
}
