import fc from 'fast-check';
import { firstValueFrom, from, Subject, toArray, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createRuntime, FlowNotFoundError, InvalidOptionError, JobCancelledError, RoutineError, type JobState } from 'slotflow';
import { runFlow, throwIfFailed } from 'slotflow/rx';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { gatedWork, UNFINISHED } from './flows.js';

const runtime = useRuntimes();

const values = (states: readonly JobState[]) => states.map((s) => s.params?.v);

describe('runFlow', () => {
  it('runs one job per value (params: the value itself) and emits each final state in completion order, then completes', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const out: JobState[] = [];
    let completed = false;
    from([{ v: 1 }, { v: 2 }, { v: 3 }])
      .pipe(runFlow(rt, gatedWork(gate)))
      .subscribe({ next: (s) => out.push(s), complete: () => (completed = true) });
    await flush();
    expect(gate.held.map((e) => e.info)).toEqual([1, 2, 3]);

    gate.held[1]?.release();
    await flush();
    expect(values(out)).toEqual([2]);
    gate.releaseAll();
    await flush();

    expect(values(out)).toEqual([2, 1, 3]);
    expect(out.every((s) => s.status === 'completed' && s.flowId === 'work')).toBe(true);
    expect(out.map((s) => s.outputs['work.done'])).toEqual([[{ v: 2 }], [{ v: 1 }], [{ v: 3 }]]);
    expect(completed).toBe(true);
  });

  it('maps values to params with `params` (value, index) and names jobs with `jobId`', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const flow = gatedWork(gate);
    rt.register(flow);
    const done = firstValueFrom(
      from([10, 20]).pipe(
        runFlow(rt, 'work', { params: (n, i) => ({ v: n + i }), jobId: (n) => `job-${n}` }),
        toArray(),
      ),
    );
    await flush();
    gate.releaseAll();
    const states = await done;
    expect(states.map((s) => [s.jobId, s.params])).toEqual([
      ['job-10', { v: 10 }],
      ['job-20', { v: 21 }],
    ]);
  });

  it('never has more than `concurrency` of its jobs unfinished; the next value starts when one ends', async () => {
    const gate = new Gate<number>();
    const rt = runtime({ concurrency: 10 });
    const out: JobState[] = [];
    from([1, 2, 3, 4, 5, 6, 7])
      .pipe(runFlow(rt, gatedWork(gate), { concurrency: 3, params: (v) => ({ v }) }))
      .subscribe((s) => out.push(s));
    const unfinished: number[] = [];
    for (;;) {
      await flush();
      unfinished.push(rt.listJobs({ status: [...UNFINISHED] }).length);
      if (gate.inside === 0) break;
      gate.releaseNext();
    }

    expect(Math.max(...unfinished)).toBe(3);
    expect(gate.maxInside).toBe(3);
    expect(gate.log).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(values(out)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rt.listJobs()).toHaveLength(7);
  });

  it('property: at most `concurrency` jobs unfinished, one state per value, emitted in the order the jobs finish', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), async (n, concurrency, picks) => {
        const gate = new Gate<number>();
        const rt = createRuntime({ concurrency: 4 });
        try {
          const out: JobState[] = [];
          let completed = false;
          from(Array.from({ length: n }, (_, i) => i))
            .pipe(runFlow(rt, gatedWork(gate), { concurrency, params: (v) => ({ v }) }))
            .subscribe({ next: (s) => out.push(s), complete: () => (completed = true) });
          const finishedOrder: number[] = [];
          for (let step = 0; ; step++) {
            await flush();
            expect(rt.listJobs({ status: [...UNFINISHED] }).length).toBeLessThanOrEqual(concurrency);
            const held = gate.held;
            if (held.length === 0) break;
            const entry = held[(picks[step % picks.length] ?? 0) % held.length];
            entry?.release();
            if (entry) finishedOrder.push(entry.info);
          }
          expect(completed).toBe(true);
          expect(values(out)).toEqual(finishedOrder);
          expect([...finishedOrder].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        } finally {
          await rt.shutdown();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('emits the final state of a failed job (as job.wait does) and goes on with the others', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const out: JobState[] = [];
    from([{ v: 1, fail: true }, { v: 2 }])
      .pipe(runFlow(rt, gatedWork(gate)))
      .subscribe((s) => out.push(s));
    await flush();
    gate.releaseAll();
    await flush();
    expect(out.map((s) => [s.params?.v, s.status])).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    expect(out[0]?.error).toBeInstanceOf(RoutineError);
  });

  it('with throwIfFailed, errors with the job error and cancels the jobs still running', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    let error: unknown;
    from([{ v: 1, fail: true }, { v: 2 }])
      .pipe(runFlow(rt, gatedWork(gate)), throwIfFailed())
      .subscribe({ error: (e: unknown) => (error = e) });
    await flush();
    gate.releaseNext();
    await flush();

    expect(error).toBeInstanceOf(RoutineError);
    expect((error as RoutineError).message).toMatch(/work 1 failed/);
    const second = rt.listJobs().find((j) => j.state.params?.v === 2);
    expect(second?.status).toBe('cancelled');
    expect(second?.error).toBeInstanceOf(JobCancelledError);
  });

  it('cancels the jobs it started when unsubscribed; values not yet taken start no job', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const subscription: Subscription = from([1, 2, 3, 4])
      .pipe(runFlow(rt, gatedWork(gate), { concurrency: 2, params: (v) => ({ v }) }))
      .subscribe();
    await flush();
    expect(gate.inside).toBe(2);

    subscription.unsubscribe();
    await flush();
    const jobs = rt.listJobs();
    expect(jobs.map((j) => j.status)).toEqual(['cancelled', 'cancelled']);
    expect(jobs.map((j) => (j.error as JobCancelledError).reason)).toEqual(['runFlow was unsubscribed', 'runFlow was unsubscribed']);
    expect(gate.held.every((e) => e.signal?.aborted === true)).toBe(true);
  });

  it('on a source error: cancels its running jobs with the error as the reason, then passes the error on', async () => {
    const gate = new Gate<number>();
    const rt = runtime();
    const source = new Subject<number>();
    const out: JobState[] = [];
    let error: unknown;
    source.pipe(runFlow(rt, gatedWork(gate), { params: (v) => ({ v }) })).subscribe({ next: (s) => out.push(s), error: (e: unknown) => (error = e) });
    source.next(1);
    source.next(2);
    await flush();
    gate.releaseNext();
    await flush();
    const boom = new Error('source down');
    source.error(boom);
    await flush();

    expect(error).toBe(boom);
    expect(values(out)).toEqual([1]);
    const running = rt.listJobs().find((j) => j.state.params?.v === 2);
    expect(running?.status).toBe('cancelled');
    expect((running?.error as JobCancelledError).reason).toBe(boom);
  });

  it('errors the stream when a job cannot start (unknown flow id, a duplicate job id), cancelling the others', async () => {
    const rt = runtime();
    await expect(firstValueFrom(from([{ v: 1 }]).pipe(runFlow(rt, 'nope')))).rejects.toBeInstanceOf(FlowNotFoundError);

    const gate = new Gate<number>();
    let error: unknown;
    from([{ v: 1 }, { v: 2 }])
      .pipe(runFlow(rt, gatedWork(gate), { jobId: () => 'same' }))
      .subscribe({ error: (e: unknown) => (error = e) });
    await flush();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(rt.getJob('same')?.status).toBe('cancelled');
    expect((rt.getJob('same')?.error as JobCancelledError).reason).toBe(error);
  });

  it('rejects bad arguments at once', () => {
    const rt = runtime();
    const flow = gatedWork(new Gate<number>());
    expect(() => runFlow({} as never, flow)).toThrow(/Expected `runFlow\(runtime\)` to be a Runtime/);
    expect(() => runFlow(rt, 42 as never)).toThrow(InvalidOptionError);
    expect(() => runFlow(rt, flow, { concurrency: 0 })).toThrow(/Expected `runFlow\(\{ concurrency \}\)` to be an integer from 1 and up, or Infinity, got 0 \(number\)/);
    expect(() => runFlow(rt, flow, { params: 'v' as never })).toThrow(InvalidOptionError);
    expect(() => runFlow(rt, flow, { timeoutMs: -1 })).toThrow(InvalidOptionError);
  });
});
