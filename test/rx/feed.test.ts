import { firstValueFrom, from, Subject, throwError, concat, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { JobFinishedError, InvalidOptionError, UnknownSlotError, type JobState } from 'slotflow';
import { feed } from 'slotflow/rx';
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
});
