/**
 * Stored snapshots: the checks and the JSON form shared by the checkpoint stores.
 *
 * A store checks only what it relies on (a slotflow snapshot with a job id and a status); `runtime.restore()` checks
 * the rest.
 */
import { CheckpointError, describeValue, SnapshotError } from '../errors/index.js';
import { isFinalStatus, JOB_STATUSES } from '../types/JobStatus.js';
import { isRecord } from './parseSnapshot.js';
import { SNAPSHOT_FORMAT, type JobSnapshot } from './JobSnapshot.js';

const STATUSES: ReadonlySet<string> = new Set(JOB_STATUSES);



/** What is wrong with `value` as a stored snapshot, or `undefined` when nothing the stores rely on is. */
function problemOf(value: unknown): string | undefined {
  if (!isRecord(value)) return 'expected a job snapshot object';
  if (value.format !== SNAPSHOT_FORMAT) return `expected format '${SNAPSHOT_FORMAT}', got ${describeValue(value.format)}`;
  if (typeof value.version !== 'number') return 'the snapshot has no numeric version';
  if (typeof value.jobId !== 'string') return 'the snapshot has no string jobId';
  if (typeof value.status !== 'string' || !STATUSES.has(value.status)) {
    return `the snapshot has no known status (got ${describeValue(value.status)})`;
  }
  return undefined;
}

/**
 * The JSON text a store saves for `snapshot`. Rejects what is not a snapshot (`SnapshotError('malformed')`) and
 * what JSON cannot hold, such as a BigInt or a cycle (`CheckpointError('save')`).
 */
export function toStoredText(snapshot: unknown): { readonly snapshot: JobSnapshot; readonly text: string } {
  const problem = problemOf(snapshot);
  const jobId = isRecord(snapshot) && typeof snapshot.jobId === 'string' ? snapshot.jobId : undefined;
  if (problem !== undefined) throw new SnapshotError('malformed', `cannot save it: ${problem}`, jobId);
  let text: string;
  try {
    text = JSON.stringify(snapshot);
  } catch (error) {
    throw new CheckpointError('save', jobId, error);
  }
  return { snapshot: snapshot as JobSnapshot, text };
}

/** Parses a stored snapshot of `jobId` read from `source` (a path, for the message). */
export function fromStoredText(text: string, jobId: string, source: string): JobSnapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError('malformed', `${source} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, jobId, { cause: error });
  }
  const problem = problemOf(value);
  if (problem !== undefined) throw new SnapshotError('malformed', `${source}: ${problem}`, jobId);
  const snapshot = value as JobSnapshot;
  if (snapshot.jobId !== jobId) throw new SnapshotError('malformed', `${source} holds job '${snapshot.jobId}'`, jobId);
  return snapshot;
}

/** The job id and whether it is finished, from a stored text; `undefined` when the text is not a snapshot. */
export function peekStoredText(text: string): { readonly jobId: string; readonly finished: boolean } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (problemOf(value) !== undefined) return undefined;
    const snapshot = value as JobSnapshot;
    return { jobId: snapshot.jobId, finished: isFinalStatus(snapshot.status) };
  } catch {
    return undefined;
  }
}
