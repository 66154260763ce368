/**
 * parseSnapshot: checks that a value read back from JSON is a job snapshot this release can continue, upgrading
 * older format versions first. Every problem is a `SnapshotError` that says which.
 *
 * Versioning: each format change bumps `SNAPSHOT_VERSION` and adds one migration from the previous version to
 * `migrations` below, so a snapshot written by any earlier release is upgraded step by step. A snapshot of a newer
 * version than this release knows is refused (`reason: 'version'`), never guessed at.
 */
import { describeValue, SnapshotError } from '../errors/index.js';
import { JOB_STATUSES } from '../job/JobState.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type JobSnapshot } from './JobSnapshot.js';

type Raw = Record<string, unknown>;

/** `migrations[n]` turns a version-n snapshot into version n+1. None yet: version 1 is the first format. */
const migrations: Readonly<Record<number, (snapshot: Raw) => Raw>> = {};

const STATUSES: ReadonlySet<string> = new Set(JOB_STATUSES);
const MACHINES = new Set(['idle', 'running', 'backoff', 'skipped', 'stopped']);

export const isRecord = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates (and upgrades) a snapshot.
 * @param migrate An optional hook run first, for snapshots you transformed or wrote yourself.
 */
export function parseSnapshot(value: unknown, migrate?: (snapshot: unknown) => unknown): JobSnapshot {
  let input = value;
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input) as unknown;
    } catch (error) {
      throw new SnapshotError('malformed', `not valid JSON (${(error as Error).message})`, undefined, { cause: error });
    }
  }
  if (migrate) input = migrate(input);
  if (!isRecord(input) || input.format !== SNAPSHOT_FORMAT)
    throw new SnapshotError('malformed', `expected an object with format '${SNAPSHOT_FORMAT}' (from job.snapshot()), got ${describeValue(input)}`);
  let raw: Raw = input;
  const jobId = typeof raw.jobId === 'string' && raw.jobId !== '' ? raw.jobId : undefined;
  let version = raw.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw new SnapshotError('malformed', `expected an integer 'version' from 1 up, got ${describeValue(version)}`, jobId);
  if (version > SNAPSHOT_VERSION)
    throw new SnapshotError('version', `format version ${version} is newer than this release reads (${SNAPSHOT_VERSION}); upgrade slotflow`, jobId);
  while (version < SNAPSHOT_VERSION) {
    const step = migrations[version];
    if (!step) throw new SnapshotError('version', `no migration from format version ${version}`, jobId);
    raw = step(raw);
    version++;
  }
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  expect(jobId !== undefined, `'jobId' must be a non-empty string, got ${describeValue(raw.jobId)}`);
  expect(typeof raw.flowId === 'string' && raw.flowId !== '', `'flowId' must be a non-empty string, got ${describeValue(raw.flowId)}`);
  expect(typeof raw.status === 'string' && STATUSES.has(raw.status), `'status' must be a job status, got ${describeValue(raw.status)}`);
  expect(typeof raw.savedAt === 'number', `'savedAt' must be a number, got ${describeValue(raw.savedAt)}`);
  expect(typeof raw.startedAt === 'number', `'startedAt' must be a number, got ${describeValue(raw.startedAt)}`);
  expect(typeof raw.keepAlive === 'boolean', `'keepAlive' must be a boolean, got ${describeValue(raw.keepAlive)}`);
  expect(typeof raw.admitted === 'boolean', `'admitted' must be a boolean, got ${describeValue(raw.admitted)}`);
  expect(raw.params === undefined || isRecord(raw.params), `'params' must be an object, got ${describeValue(raw.params)}`);
  expect(raw.timeoutMs === undefined || typeof raw.timeoutMs === 'number', `'timeoutMs' must be a number, got ${describeValue(raw.timeoutMs)}`);
  expect(raw.deadlineAt === undefined || typeof raw.deadlineAt === 'number', `'deadlineAt' must be a number, got ${describeValue(raw.deadlineAt)}`);
  for (const field of ['outputs', 'shared', 'cycles', 'routines'] as const) expect(isRecord(raw[field]), `'${field}' must be an object, got ${describeValue(raw[field])}`);
  expect(raw.overrides === undefined || (isRecord(raw.overrides) && Object.values(raw.overrides).every(isRecord)), `'overrides' must be a record of routine id -> override, got ${describeValue(raw.overrides)}`);
  for (const field of ['log', 'history'] as const) expect(Array.isArray(raw[field]), `'${field}' must be an array, got ${describeValue(raw[field])}`);
  if (isRecord(raw.outputs))
    for (const [key, payloads] of Object.entries(raw.outputs)) expect(Array.isArray(payloads), `'outputs.${key}' must be an array, got ${describeValue(payloads)}`);
  if (isRecord(raw.cycles))
    for (const [edge, record] of Object.entries(raw.cycles))
      expect(isRecord(record) && typeof record.iterations === 'number' && typeof record.converged === 'boolean', `'cycles.${edge}' must be { iterations, converged }`);
  if (Array.isArray(raw.history))
    raw.history.forEach((record: unknown, i) => {
      expect(
        isRecord(record) && typeof record.routineId === 'string' && typeof record.startedAt === 'number' && typeof record.finishedAt === 'number' && typeof record.outcome === 'string',
        `'history[${String(i)}]' must be a history record (routineId, startedAt, finishedAt, outcome)`,
      );
    });
  expect(
    raw.initial === undefined || (isRecord(raw.initial) && typeof raw.initial.routine === 'string' && typeof raw.initial.slot === 'string'),
    `'initial' must be { routine, slot, payload }`,
  );
  if (isRecord(raw.routines))
    for (const [id, routine] of Object.entries(raw.routines)) {
      const at = `routines.${id}`;
      if (!isRecord(routine)) {
        problems.push(`'${at}' must be an object, got ${describeValue(routine)}`);
        continue;
      }
      expect(typeof routine.machine === 'string' && MACHINES.has(routine.machine), `'${at}.machine' must be one of ${[...MACHINES].join(', ')}, got ${describeValue(routine.machine)}`);
      expect(isRecord(routine.queues) && Object.values(routine.queues).every(Array.isArray), `'${at}.queues' must map slots to arrays`);
      expect(typeof routine.activations === 'number' && typeof routine.errors === 'number', `'${at}.activations' and '.errors' must be numbers`);
      if (routine.inflight !== undefined)
        expect(
          isRecord(routine.inflight) && isRecord(routine.inflight.consumed) && Object.values(routine.inflight.consumed).every(Array.isArray) && typeof routine.inflight.attempt === 'number',
          `'${at}.inflight' must hold 'consumed' (slot -> array) and 'attempt'`,
        );
      expect(
        routine.inflight !== undefined || (routine.machine !== 'running' && routine.machine !== 'backoff'),
        `'${at}' is '${String(routine.machine)}' without 'inflight'`,
      );
    }
  if (problems.length) throw new SnapshotError('malformed', problems.join('; '), jobId);
  return raw as unknown as JobSnapshot;
}
