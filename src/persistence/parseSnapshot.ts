/**
 * parseSnapshot: checks that a value read back from JSON is a job snapshot this release can continue, upgrading
 * older format versions first. Every problem is a `SnapshotError` that says which.
 *
 * Versioning: each format change bumps `SNAPSHOT_VERSION` and adds one migration from the previous version to
 * `migrations` below, so a snapshot written by any earlier release is upgraded step by step. A snapshot of a newer
 * version than this release knows is refused (`reason: 'version'`), never guessed at.
 */
import { describeValue, SnapshotError } from '../errors/index.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type JobSnapshot } from './JobSnapshot.js';
import { checkSnapshot } from './checkSnapshot.js';

type Raw = Record<string, unknown>;

/** `migrations[n]` turns a version-n snapshot into version n+1. None yet: version 1 is the first format. */
const migrations: Readonly<Record<number, (snapshot: Raw) => Raw>> = {};

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
  const problems = checkSnapshot(raw, jobId);
  if (raw.overrides !== undefined && !(isRecord(raw.overrides) && Object.values(raw.overrides).every(isRecord)))
    problems.push(`'overrides' must be a record of routine id -> override, got ${describeValue(raw.overrides)}`);
  if (raw.children !== undefined && !(isRecord(raw.children) && Object.values(raw.children).every(isRecord)))
    problems.push(`'children' must be a record of child job id -> job snapshot, got ${describeValue(raw.children)}`);
  if (problems.length) throw new SnapshotError('malformed', problems.join('; '), jobId);
  return raw as unknown as JobSnapshot;
}
