/**
 * JobNotFoundError: a control message or a wait for a job id the queue has no record of: it never existed, or it
 * finished longer ago than the workers' `retainFinishedMs` and its keys expired.
 */
import { SlotflowError } from 'slotflow';

export class JobNotFoundError extends SlotflowError {
  readonly code = 'JOB_NOT_FOUND' as const;
  constructor(
    readonly jobId: string,
    readonly queue: string,
  ) {
    super(`Job '${jobId}' is not in queue '${queue}': it never existed, or it finished and its records expired (the workers' retainFinishedMs).`);
  }
}
