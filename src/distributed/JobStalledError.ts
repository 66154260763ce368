/**
 * JobStalledError: the `error` of a job that failed because the workers running it kept dying (or freezing past
 * their lock): BullMQ took it over more than `maxStalledCount` times, so it is not handed to another worker again.
 */
import { SlotflowError } from 'slotflow';

export class JobStalledError extends SlotflowError {
  readonly code = 'JOB_STALLED' as const;
  constructor(
    readonly jobId: string,
    /** BullMQ's reason, e.g. 'job stalled more than allowable limit'. */
    readonly reason: string,
  ) {
    super(
      `Job '${jobId}' failed: its worker died or stalled past its lock more often than the workers' maxStalledCount allows (${reason}). ` +
        'A job that crashes its process every time (out of memory, a native crash) ends here; raise maxStalledCount to allow more take-overs.',
    );
  }
}
