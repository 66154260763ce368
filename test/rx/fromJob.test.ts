import { lastValueFrom, map, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, JobCancelledError, RoutineError, type JobEvent, type JobState } from 'slotflow';
import { fromJob, isJobEndEvent, jobStates } from 'slotflow/rx';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { gatedWork } from './flows.js';

const runtime = useRuntimes();

describe('fromJob', () => {
  it('subscribed in the same tick as exec: every event of the job, ending with its end event, then complete', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const job = rt.exec(gatedWork(gate), { params: { v: 1 } });
    const all = lastValueFrom(fromJob(job).pipe(toArray()));
    await flush();
    gate.releaseAll();
    const events = await all;

    expect(events.map((e) => e.type)).toEqual(['job.queued', 'job.started', 'routine.started', 'event.emitted', 'routine.completed', 'job.completed']);
    expect(events.filter(isJobEndEvent)).toHaveLength(1);
  });

  it('on a job that has already ended: emits its end event at once (rebuilt from its state), then completes', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const flow = gatedWork(gate);
    const done = rt.exec(flow, { params: { v: 1 } });
    const failed = rt.exec(flow, { params: { v: 2, fail: true } });
    const cancelled = rt.exec(flow, { params: { v: 3 } });
    await flush();
    gate.releaseNext();
    gate.releaseNext();
    cancelled.cancel('stop');
    await Promise.all([done.wait(), failed.wait(), cancelled.wait()]);
    await flush();

    const ends = await Promise.all([done, failed, cancelled].map((job) => lastValueFrom(fromJob(job).pipe(toArray()))));
    expect(ends.map((events) => events.map((e) => e.type))).toEqual([['job.completed'], ['job.failed'], ['job.cancelled']]);
    const [[completed], [failure], [cancel]] = ends as [[JobEvent], [JobEvent], [JobEvent]];
    expect(completed).toEqual({ type: 'job.completed', jobId: done.id, flowId: 'work', at: done.state.finishedAt });
    expect(failure.type === 'job.failed' && failure.error).toBeInstanceOf(RoutineError);
    expect(cancel.type === 'job.cancelled' && cancel.error).toBeInstanceOf(JobCancelledError);
  });

  it('subscribed late to a running job: the events from then on, still ending with one end event', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const job = rt.exec(gatedWork(gate), { params: { v: 1 } });
    await flush();
    const events = lastValueFrom(fromJob(job).pipe(toArray()));
    gate.releaseAll();
    expect((await events).map((e) => e.type)).toEqual(['event.emitted', 'routine.completed', 'job.completed']);
  });

  it('keeps the runtime guard: a subscriber that throws is reported, the job completes', async () => {
    const reports: unknown[] = [];
    const rt = runtime({ onUnhandledError: (error) => reports.push(error) });
    const gate = new Gate<number>();
    const job = rt.exec(gatedWork(gate), { params: { v: 1 } });
    fromJob(job)
      .pipe(map((e) => e.type))
      .subscribe((type) => {
        if (type === 'job.completed') throw new Error('late bug');
      });
    await flush();
    gate.releaseAll();
    expect((await job.wait()).status).toBe('completed');
    await flush();
    expect(reports).toEqual([new Error('late bug')]);
  });

  it('rejects what is not a job', () => {
    expect(() => fromJob({} as never)).toThrow(InvalidOptionError);
  });
});

describe('jobStates', () => {
  it('emits the current state, a new snapshot after changes, and the final state; then completes', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const job = rt.exec(gatedWork(gate), { params: { v: 1 } });
    const states: JobState[] = [];
    let completed = false;
    jobStates(job).subscribe({ next: (s) => states.push(s), complete: () => (completed = true) });
    expect(states).toEqual([job.state]);
    await flush();
    expect(states.at(-1)?.routines.work?.status).toBe('running');
    gate.releaseAll();
    const final = await job.wait();
    await flush();

    expect(completed).toBe(true);
    expect(states.at(-1)).toBe(final);
    expect(states.length).toBeGreaterThanOrEqual(3);
    // Distinct snapshots only.
    expect(new Set(states).size).toBe(states.length);
  });

  it('on a finished job: its final state once, then complete', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const job = rt.exec(gatedWork(gate), { params: { v: 1 } });
    await flush();
    gate.releaseAll();
    const final = await job.wait();
    await flush();
    expect(await lastValueFrom(jobStates(job).pipe(toArray()))).toEqual([final]);
  });

  it('rejects what is not a job', () => {
    expect(() => jobStates(null as never)).toThrow(InvalidOptionError);
  });
});
