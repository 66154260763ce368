/**
 * jobStates: a job's state snapshots as an Observable.
 */
import { connect, distinctUntilChanged, map, startWith, type Observable } from 'rxjs';
import type { Job, JobState } from 'slotflow';
import { assertJob } from './assertArgument.js';
import { fromJob } from './fromJob.js';

/**
 * `job.state` now, then again after each delivery of the job's events when it changed (by reference: snapshots
 * are immutable and a new object after each change), ending with the final state; then complete. Several changes
 * between two deliveries show as one snapshot, the latest.
 * @example
 * jobStates(job).subscribe((state) => render(state.status, state.routines));
 */
export function jobStates(job: Job): Observable<JobState> {
  assertJob('jobStates(job)', job);
  return fromJob(job).pipe(
    // `connect` runs per subscription, so the first snapshot is the one current when subscribing.
    connect((events$) => events$.pipe(map(() => job.state), startWith(job.state))),
    distinctUntilChanged(),
  );
}
