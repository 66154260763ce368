import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createFlow, defineRoutine, InvalidOptionError, type JobEvent } from 'slotflow';
import { fromJob, ofType, type JobEventOf } from 'slotflow/rx';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

describe('ofType', () => {
  it('keeps the events of the given types, typed accordingly', async () => {
    const flaky = defineRoutine({
      name: 'flaky',
      slots: ['in'],
      onError: 'continue',
      run() {
        throw new Error('nope');
      },
    });
    const rt = runtime();
    const job = rt.exec(createFlow('flaky_types').add('flaky', flaky), { params: {} });
    const picked = lastValueFrom(fromJob(job).pipe(ofType('routine.failed', 'job.completed'), toArray()));
    const events = await picked;

    expect(events.map((e) => e.type)).toEqual(['routine.failed', 'job.completed']);
    const [failure] = events;
    if (failure?.type === 'routine.failed') expect([failure.decision, failure.error.message]).toEqual(['continue', 'nope']);
    expectTypeOf(events).toEqualTypeOf<JobEventOf<'routine.failed' | 'job.completed'>[]>();
    expectTypeOf<JobEventOf<'routine.failed'>>().toHaveProperty('decision');
    expectTypeOf<JobEventOf<'job.completed'>['type']>().toEqualTypeOf<'job.completed'>();
    expectTypeOf<JobEventOf<'job.completed'>>().toExtend<JobEvent>();
  });

  it('rejects unknown or missing types', () => {
    expect(() => ofType('job.done' as never)).toThrow(/Expected `ofType\(\.\.\.types\)` to be event types among 'job.queued'/);
    expect(() => (ofType as (...types: string[]) => unknown)()).toThrow(InvalidOptionError);
  });
});
