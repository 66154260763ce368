/**
 * Type tests of slotflow/rx (checked by `tsc --noEmit`; `vitest --typecheck` too if its include covers test/rx).
 */
import { of, type Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, type Job, type JobEvent, type JobState } from 'slotflow';
import { feed, fromJob, jobStates, ofType, runFlow, throwIfFailed, type JobEndEvent, type JobEventOf } from 'slotflow/rx';

const runtime = createRuntime();
const flow = createFlow('typed').add('r', defineRoutine({ name: 'r', slots: ['in'], run() {} }));
declare const job: Job;

describe('slotflow/rx types', () => {
  it('runFlow takes object values as params, or any value with a params mapping', () => {
    expectTypeOf(of({ v: 1 }).pipe(runFlow(runtime, flow))).toEqualTypeOf<Observable<JobState>>();
    interface Order {
      id: string;
    }
    expectTypeOf(of<Order>({ id: 'a' }).pipe(runFlow(runtime, flow))).toEqualTypeOf<Observable<JobState>>();
    expectTypeOf(of(1, 2).pipe(runFlow(runtime, 'typed', { concurrency: 2, params: (n, i) => ({ n: n + i }) }))).toEqualTypeOf<Observable<JobState>>();
    of(1, 2).pipe(
      runFlow(runtime, flow, {
        params: (n) => {
          expectTypeOf(n).toEqualTypeOf<number>();
          return { n };
        },
      }),
    );
    // @ts-expect-error a number is not a params object: map it with `params`
    of(1).pipe(runFlow(runtime, flow));
    // @ts-expect-error params must return an object
    of(1).pipe(runFlow(runtime, flow, { params: (n: number) => n }));
    expectTypeOf(of({ v: 1 }).pipe(runFlow(runtime, flow), throwIfFailed())).toEqualTypeOf<Observable<JobState>>();
  });

  it('fromJob, jobStates and feed', () => {
    expectTypeOf(fromJob(job)).toEqualTypeOf<Observable<JobEvent>>();
    expectTypeOf(jobStates(job)).toEqualTypeOf<Observable<JobState>>();
    expectTypeOf(feed(job, 'r', 'in', of({ x: 1 }))).toEqualTypeOf<Observable<JobState>>();
    expectTypeOf(feed(job, 'r', 'in', [{ x: 1 }])).toEqualTypeOf<Observable<JobState>>();
    // @ts-expect-error posted values are payload objects
    feed(job, 'r', 'in', of(1));
  });

  it('ofType narrows to the events of the given types', () => {
    const failed = runtime.events$.pipe(ofType('routine.failed'));
    expectTypeOf(failed).toEqualTypeOf<Observable<JobEventOf<'routine.failed'>>>();
    failed.subscribe((e) => {
      expectTypeOf(e.error).toEqualTypeOf<Error>();
      expectTypeOf(e.decision).toEqualTypeOf<'retry' | 'continue' | 'skip' | 'stop'>();
    });
    runtime.events$.pipe(ofType('job.completed', 'job.failed')).subscribe((e) => {
      expectTypeOf(e.type).toEqualTypeOf<'job.completed' | 'job.failed'>();
    });
    expectTypeOf<JobEndEvent['type']>().toEqualTypeOf<'job.completed' | 'job.failed' | 'job.cancelled'>();
    // @ts-expect-error not an event type
    ofType('job.done');
  });
});
