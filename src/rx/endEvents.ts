/**
 * endEvents: how a job ends, for every slotflow/rx function: its final statuses, and the event each one ends with.
 */
import { isFinalStatus, type FinalStatus, type JobEventType } from 'slotflow';

export { isFinalStatus, type FinalStatus };

/** Each final job status, with the event a job that ends so emits last. */
export const END_EVENTS = {
  completed: 'job.completed',
  failed: 'job.failed',
  cancelled: 'job.cancelled',
} as const satisfies Record<FinalStatus, JobEventType>;

/** The type of the event a job ends with. */
export type EndEventType = (typeof END_EVENTS)[FinalStatus];

const END_TYPES: ReadonlySet<JobEventType> = new Set(Object.values(END_EVENTS));

/** True for the type of a job's end event (`job.completed`, `job.failed` or `job.cancelled`). */
export function isEndEventType(type: JobEventType): type is EndEventType {
  return END_TYPES.has(type);
}
