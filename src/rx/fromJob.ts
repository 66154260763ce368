/**
 * fromJob: one job's events as an Observable that ends with the job.
 */
import { concatWith, connect, defer, EMPTY, of, tap, type Observable } from 'rxjs';
import type { Job, JobEvent } from 'slotflow';
import { assertJob } from './assertArgument.js';
import { isEndEventType, type EndEventType } from './endEvents.js';
import type { JobEventOf } from './ofType.js';

/** The event a job ends with. */
export type JobEndEvent = JobEventOf<EndEventType>;

/** True for `job.completed`, `job.failed` and `job.cancelled`. */
export function isJobEndEvent(event: JobEvent): event is JobEndEvent {
  return isEndEventType(event.type);
}

/**
 * The events of `job` from the moment of subscription, always ending with exactly one end event (`job.completed`,
 * `job.failed` or `job.cancelled`), then complete. Subscribe in the same tick as `exec` to see every event.
 * On a job that has already ended, it emits that end event at once (rebuilt from `job.state`: `at` is its
 * `finishedAt`) and completes, so `last()` and `lastValueFrom` always have a value.
 * @example
 * const end = await lastValueFrom(fromJob(runtime.exec(flow, { params })));
 * if (end.type === 'job.failed') console.error(end.error);
 */
export function fromJob(job: Job): Observable<JobEvent> {
  assertJob('fromJob(job)', job);
  // Built by piping from `job.events$`, so a subscriber that throws is reported by the runtime like any other.
  return job.events$.pipe(
    connect((events$) => {
      let ended = false;
      return events$.pipe(
        tap((event) => {
          if (isJobEndEvent(event)) ended = true;
        }),
        concatWith(defer(() => (ended ? EMPTY : of(endEvent(job))))),
      );
    }),
  );
}

/** The end event of a finished job, rebuilt from its state. */
function endEvent(job: Job): JobEndEvent {
  const { jobId, flowId, status, error, finishedAt, startedAt } = job.state;
  const base = { jobId, flowId, at: finishedAt ?? startedAt };
  // A finished job's stream completes only at its end, so the status is final here; failed and cancelled carry their error.
  if (status === 'completed') return { type: 'job.completed', ...base };
  return { type: status === 'failed' ? 'job.failed' : 'job.cancelled', ...base, error: error as Error };
}
