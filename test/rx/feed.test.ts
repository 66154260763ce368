import { firstValueFrom, from, Subject, throwError, concat, of } from 'rxjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobFinishedError, InvalidOptionError, PayloadError, UnknownSlotError, type Job, type JobState } from 'slotflow';
import { feed } from 'slotflow/rx';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { collector } from './flows.js';

const runtime = useRuntimes();

const seen = (state: JobState | undefined) => state?.outputs['collect.seen']?.map((p) => p.x);

describe('feed', () => {
  it('posts every value into the keepAlive job, completes the job when the stream completes, then emits its final state', async () => {
    const rt = runtime();
    const job = rt.exec(collector(), { keepAlive: true });
    const source = new Subject<{ x: number }>();
    const out: JobState[] = [];
    let completed = false;
    feed(job, 'collect', 'item', source).subscribe({ next: (s) => out.push(s), complete: () => (completed = true) });
    source.next({ x: 1 });
    source.next({ x: 2 });
    await flush();
    expect(job.status).toBe('idle');
    expect(seen(job.state)).toEqual([1, 2]);
    source.next({ x: 3 });
    source.complete();
    await flush();

    expect(completed).toBe(true);
    expect(out).toHaveLength(1);
    expect(out[0]?.status).toBe('completed');
    expect(seen(out[0])).toEqual([1, 2, 3]);
  });

  it('takes any ObservableInput (an array here), and does nothing until subscribed', async () => {
    const rt = runtime();
    const job = rt.exec(collector(), { keepAlive: true });
    const fed = feed(job, 'collect', 'item', [{ x: 'a' }, { x: 'b' }]);
    await flush();
    expect(job.status).toBe('idle');
    expect(seen(job.state)).toBeUndefined();
    const state = await firstValueFrom(fed);
    expect(seen(state)).toEqual(['a', 'b']);
  });

  it('on a stream error: fails the job with the error and errors with it', async () => {
    const rt = runtime();
    const job = rt.exec(collector(), { keepAlive: true });
    const boom = new Error('stream broke');
    const source = new Subject<{ x: number }>();
    const result = firstValueFrom(feed(job, 'collect', 'item', source));
    source.next({ x: 1 });
    await flush();
    source.error(boom);
    await expect(result).rejects.toBe(boom);
    expect(job.status).toBe('failed');
    expect(job.error).toBe(boom);
    expect(job.state.error).toBe(boom);
    expect(seen(job.state)).toEqual([1]);

    // A synchronous source errors within the subscribe call.
    const second = rt.exec(collector('collect_sync'), { keepAlive: true });
    await expect(firstValueFrom(feed(second, 'collect', 'item', concat(of({ x: 2 }), throwError(() => boom))))).rejects.toBe(boom);
    expect(second.status).toBe('failed');
  });

  it('a post that throws (unknown slot) is handled like a stream error: the source is left, the job failed', async () => {
    const rt = runtime();
    const job = rt.exec(collector(), { keepAlive: true });
    let pulled = 0;
    function* values() {
      for (;;) {
        pulled++;
        yield { x: pulled };
      }
    }
    const error = await firstValueFrom(feed(job, 'collect', 'nope', from(values()))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownSlotError);
    expect(pulled).toBe(1);
    expect(job.status).toBe('failed');
    expect(job.error).toBe(error);
  });

  it('when the job ends first: unsubscribes from the stream and emits the final state', async () => {
    const rt = runtime();
    const job = rt.exec(collector(), { keepAlive: true });
    const source = new Subject<{ x: number }>();
    const states: JobState[] = [];
    feed(job, 'collect', 'item', source).subscribe((s) => states.push(s));
    source.next({ x: 1 });
    await flush();
    job.cancel('done elsewhere');
    await flush();
    expect(source.observed).toBe(false);
    expect(states.map((s) => s.status)).toEqual(['cancelled']);
  });

  it('unsubscribing stops reading the stream and leaves the job open', async () => {
    const rt = runtime();
    const job = rt.exec(collector(), { keepAlive: true });
    const source = new Subject<{ x: number }>();
    const subscription = feed(job, 'collect', 'item', source).subscribe();
    source.next({ x: 1 });
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    await flush();
    expect(job.status).toBe('idle');
    job.complete();
    expect(seen(await job.wait())).toEqual([1]);
  });

  it('errors with JobFinishedError when subscribed after the job ended; rejects bad arguments at once', async () => {
    const rt = runtime();
    const job = rt.exec(collector(), { keepAlive: true });
    job.cancel();
    await expect(firstValueFrom(feed(job, 'collect', 'item', [{ x: 1 }]))).rejects.toBeInstanceOf(JobFinishedError);

    expect(() => feed({} as never, 'collect', 'item', [])).toThrow(InvalidOptionError);
    expect(() => feed(job, '', 'item', [])).toThrow(/Expected `feed\(routineId\)` to be a non-empty string/);
    expect(() => feed(job, 'collect', 'item', 42 as never)).toThrow(/Expected `feed\(source\$\)` to be an Observable/);
  });

  describe('backpressure (a full slot)', () => {
    /** Releases the gated activations one by one until the job ends; returns its final state. */
    async function drain(job: Job, gate: Gate<number>): Promise<JobState> {
      for (let i = 0; i < 1_000 && job.status !== 'completed' && job.status !== 'failed'; i++) {
        await flush();
        if (gate.inside > 0) gate.releaseNext();
      }
      return job.wait();
    }

    it('posts a synchronous source larger than maxQueue in full, in order, as the routine consumes', async () => {
      const rt = runtime();
      const job = rt.exec(collector('collect_small', { maxQueue: 3 }), { keepAlive: true });
      const values = Array.from({ length: 25 }, (_, i) => ({ x: i }));
      const state = await firstValueFrom(feed(job, 'collect', 'item', values));
      expect(state.status).toBe('completed');
      expect(seen(state)).toEqual(values.map((v) => v.x));
    });

    it('reads an iterable only as fast as the slot takes it', async () => {
      const rt = runtime();
      const gate = new Gate<number>();
      const job = rt.exec(collector('collect_gated', { maxQueue: 2, gate }), { keepAlive: true });
      let pulled = 0;
      function* values() {
        for (let i = 1; i <= 10; i++) {
          pulled++;
          yield { x: i };
        }
      }
      const states: JobState[] = [];
      feed(job, 'collect', 'item', values()).subscribe((s) => states.push(s));
      await flush();
      // One value taken by the held activation, two queued, one waiting to be posted: no more is read.
      expect(pulled).toBe(4);
      expect(job.status).toBe('running');
      const state = await drain(job, gate);
      expect(state.status).toBe('completed');
      expect(seen(state)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await flush();
      expect(states).toEqual([state]);
    });

    it('holds the values an Observable gives meanwhile, and completes the job only once they are posted', async () => {
      const rt = runtime();
      const gate = new Gate<number>();
      const job = rt.exec(collector('collect_held', { maxQueue: 1, gate }), { keepAlive: true });
      const source = new Subject<{ x: number }>();
      const result = firstValueFrom(feed(job, 'collect', 'item', source));
      for (let x = 1; x <= 5; x++) source.next({ x });
      source.complete();
      await flush();
      expect(job.status).toBe('running');
      expect(job.state.routines.collect?.pending).toEqual({ item: [{ x: 2 }] });
      const state = await drain(job, gate);
      expect(await result).toBe(state);
      expect(seen(state)).toEqual([1, 2, 3, 4, 5]);
    });

    it('an iterable that throws while read is a stream error: the job fails with it', async () => {
      const rt = runtime();
      const job = rt.exec(collector('collect_throwing', { maxQueue: 1 }), { keepAlive: true });
      const boom = new Error('read failed');
      function* values() {
        yield { x: 1 };
        yield { x: 2 };
        throw boom;
      }
      await expect(firstValueFrom(feed(job, 'collect', 'item', values()))).rejects.toBe(boom);
      expect(job.status).toBe('failed');
      expect(job.error).toBe(boom);
    });

    it('stops waiting when the job ends meanwhile: emits the final state and closes the iterable', async () => {
      const rt = runtime();
      const gate = new Gate<number>();
      const job = rt.exec(collector('collect_cancel', { maxQueue: 1, gate }), { keepAlive: true });
      let closed = false;
      function* values() {
        try {
          for (let x = 1; ; x++) yield { x };
        } finally {
          closed = true;
        }
      }
      const result = firstValueFrom(feed(job, 'collect', 'item', values()));
      await flush();
      expect(closed).toBe(false);
      job.cancel('enough');
      const state = await result;
      expect(state.status).toBe('cancelled');
      expect(closed).toBe(true);
    });

    it('unsubscribing while it waits posts nothing more and leaves the job open', async () => {
      const rt = runtime();
      const gate = new Gate<number>();
      const job = rt.exec(collector('collect_unsub', { maxQueue: 1, gate }), { keepAlive: true });
      const subscription = feed(job, 'collect', 'item', [{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }]).subscribe();
      await flush();
      subscription.unsubscribe();
      gate.releaseNext();
      await flush();
      gate.releaseNext();
      await flush();
      expect(job.status).toBe('idle');
      job.complete();
      expect(seen(await job.wait())).toEqual([1, 2]);
    });

    it('still fails the job on any other post error met after waiting (a payload that is not an object)', async () => {
      const rt = runtime();
      const gate = new Gate<number>();
      const job = rt.exec(collector('collect_bad', { maxQueue: 1, gate }), { keepAlive: true });
      const result = firstValueFrom(feed(job, 'collect', 'item', [{ x: 1 }, { x: 2 }, { x: 3 }, null as never, { x: 5 }])).catch((e: unknown) => e);
      await flush();
      expect(job.status).toBe('running');
      gate.releaseNext();
      const error = await result;
      expect(error).toBeInstanceOf(PayloadError);
      expect(job.status).toBe('failed');
      expect(job.error).toBe(error);
    });

    it('posts every value, in order, whatever the queue bound and source size (property)', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 40 }), async (maxQueue, length) => {
          const rt = runtime();
          const job = rt.exec(collector(`collect_p${String(run++)}`, { maxQueue }), { keepAlive: true });
          const values = Array.from({ length }, (_, x) => ({ x }));
          const state = await firstValueFrom(feed(job, 'collect', 'item', values));
          expect(state.status).toBe('completed');
          expect(seen(state) ?? []).toEqual(values.map((v) => v.x));
          await rt.shutdown();
        }),
        { numRuns: 30 },
      );
    });
  });
});
