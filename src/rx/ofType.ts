/**
 * ofType: keeps the job events of the given types, typed accordingly.
 */
import { filter, type OperatorFunction } from 'rxjs';
import { InvalidOptionError, type JobEvent, type JobEventType } from 'slotflow';

/** The job events of type `TType` (`JobEventOf<'routine.failed'>` has `error` and `decision`). */
export type JobEventOf<TType extends JobEventType> = JobEvent & { readonly type: TType };

/** Every event type, so that a misspelt type fails at once in JavaScript too (and a new type must be listed). */
const EVENT_TYPES: Readonly<Record<JobEventType, true>> = {
  'job.queued': true,
  'job.started': true,
  'job.paused': true,
  'job.resumed': true,
  'job.completed': true,
  'job.failed': true,
  'job.cancelled': true,
  'job.breakpoint': true,
  'routine.started': true,
  'routine.completed': true,
  'routine.failed': true,
  'routine.retrying': true,
  'event.emitted': true,
  'cycle.converged': true,
  'cycle.exhausted': true,
  'events.dropped': true,
  'routine.progress': true,
  'job.warning': true,
};

/**
 * Keeps the events whose `type` is one of `types`, and narrows their type.
 * @example
 * runtime.events$.pipe(ofType('routine.failed')).subscribe((e) => console.warn(e.routineId, e.error.message));
 */
export function ofType<TType extends JobEventType>(...types: readonly [TType, ...TType[]]): OperatorFunction<JobEvent, JobEventOf<TType>> {
  if (types.length === 0) throw new InvalidOptionError('ofType(...types)', 'at least one event type', undefined);
  for (const type of types)
    if (typeof type !== 'string' || !Object.hasOwn(EVENT_TYPES, type))
      throw new InvalidOptionError('ofType(...types)', `event types among ${Object.keys(EVENT_TYPES).map((t) => `'${t}'`).join(', ')}`, type);
  const wanted = new Set<string>(types);
  return filter((event): event is JobEventOf<TType> => wanted.has(event.type));
}
