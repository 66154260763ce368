/**
 * asRoutine: a flow used as one routine of another flow (a subflow). Each activation runs one child job of the
 * flow; see `runChild` for what the child shares with its parent.
 */
import { InvalidOptionError } from '../errors/index.js';
import { compileFlow, isFlow, type FlowBuilder, type FlowDefinition, type RoutineMap } from '../flow/index.js';
import type { EventPayloadOf, EventRef, SlotPayloadOf, SlotRef } from '../flow/types.js';
import type { ActivationPolicy } from '../policies/index.js';
import { defineRoutine, type ErrorStrategy, type Payload, type RoutineDefinition } from '../routine/index.js';
import { assertKnownKeys, closest } from '../util/assertKnownKeys.js';
import { dict } from '../util/dict.js';
import { runChild } from './runChild.js';
import { SUBFLOW, type ChildRef, type Subflow } from './subflowOf.js';

/** The routine map of a typed flow builder (loose for a compiled flow). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matching any params type
type RoutinesOf<TFlow> = TFlow extends FlowBuilder<infer R, any> ? R : RoutineMap;

/** Options of `asRoutine`. */
export interface AsRoutineOptions<TFlow, TSlots extends Readonly<Record<string, SlotRef<RoutinesOf<TFlow>>>>, TEvents extends Readonly<Record<string, EventRef<RoutinesOf<TFlow>>>>> {
  /** The routine's type name (as `defineRoutine`'s `name`). */
  readonly name: string;
  /** This routine's slots: slot name -> the child flow's `'<routine>.<slot>'` its payloads are delivered to. */
  readonly slots: TSlots;
  /** This routine's events: event name -> the child flow's `'<routine>.<event>'` it re-emits, as the child emits it. @default {} */
  readonly events?: TEvents;
  /** As `defineRoutine`'s. @default policies.immediate() */
  readonly policy?: ActivationPolicy;
  /** What a failed child job does to the parent job (as `defineRoutine`'s). @default the flow's strategy, else 'stop' */
  readonly onError?: ErrorStrategy;
  /** Bounds each child job: past it the child is cancelled and the activation fails. @default none */
  readonly timeoutMs?: number;
  /** Per slot. @default 1000 */
  readonly maxQueue?: number;
}

const AS_ROUTINE_KEYS = ['name', 'slots', 'events', 'policy', 'onError', 'timeoutMs', 'maxQueue'] as const;

/** The routine definition `asRoutine` returns: its slots and events typed from the child flow's where those are typed. */
export type SubflowRoutine<TFlow, TSlots, TEvents> = RoutineDefinition<
  { [K in keyof TSlots]: string extends keyof RoutinesOf<TFlow> ? Payload : TSlots[K] extends string ? SlotPayloadOf<RoutinesOf<TFlow>, TSlots[K]> : never },
  { [K in keyof TEvents]: string extends keyof RoutinesOf<TFlow> ? Payload : TEvents[K] extends string ? EventPayloadOf<RoutinesOf<TFlow>, TEvents[K]> : never },
  // eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- a subflow routine has no config
  Record<never, never>,
  Record<string, unknown>
>;

/**
 * Turns a flow into a routine definition for another flow. Each activation runs one child job of `flow` (id
 * `<parentJobId>/<routineId>/<n>`), delivering what it consumed on each slot to the mapped child slot; what the
 * child emits on a mapped event is emitted by this routine at once. The child is paused, resumed and cancelled with
 * its parent; a failed child fails the activation with a `SubflowError` (its `cause` is the child's error).
 * @example
 * const etlStep = asRoutine(etl, { name: 'etl', slots: { rows: 'extract.input' }, events: { loaded: 'load.done' } });
 * createFlow('nightly').add('source', source).add('etl', etlStep).connect('source.rows', 'etl.rows');
 */
export function asRoutine<
  TFlow extends FlowBuilder<RoutineMap> | FlowDefinition,
  const TSlots extends Readonly<Record<string, SlotRef<RoutinesOf<TFlow>>>>,
  // eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- a subflow may re-emit nothing
  const TEvents extends Readonly<Record<string, EventRef<RoutinesOf<TFlow>>>> = Record<never, never>,
>(flow: TFlow, options: AsRoutineOptions<TFlow, TSlots, TEvents>): SubflowRoutine<TFlow, TSlots, TEvents> {
  if (!isFlow(flow)) throw new InvalidOptionError('asRoutine(flow)', 'a flow from createFlow() (or a compiled flow)', flow);
  assertKnownKeys('asRoutine(options)', options, AS_ROUTINE_KEYS);
  const name: unknown = options.name;
  if (typeof name !== 'string' || name === '') throw new InvalidOptionError('asRoutine({ name })', 'a non-empty string', name);
  // The child must be valid on its own (its problems are reported under its own id).
  const child = compileFlow(flow);
  const where = `asRoutine(flow '${child.id}')`;
  const slots = new Map<string, ChildRef>();
  const slotSpecs = dict<RoutineDefinition['slotSpecs'][string]>();
  const mappedSlots: unknown = options.slots;
  if (typeof mappedSlots !== 'object' || mappedSlots === null || Array.isArray(mappedSlots) || Object.keys(mappedSlots).length === 0)
    throw new InvalidOptionError(`${where} slots`, "a record of at least one slot name -> the child flow's '<routine>.<slot>'", mappedSlots);
  for (const [slot, target] of Object.entries(mappedSlots as Record<string, unknown>)) {
    const ref = childRef(child, `${where} slots.${slot}`, target, 'slot');
    slots.set(slot, ref);
    slotSpecs[slot] = child.routines.get(ref.routine)?.routine.slotSpecs[ref.name];
  }
  const events = new Map<string, string[]>();
  const eventSpecs = dict<RoutineDefinition['eventSpecs'][string]>();
  const mappedEvents: unknown = options.events ?? {};
  if (typeof mappedEvents !== 'object' || mappedEvents === null || Array.isArray(mappedEvents))
    throw new InvalidOptionError(`${where} events`, "a record of event name -> the child flow's '<routine>.<event>'", mappedEvents);
  for (const [event, source] of Object.entries(mappedEvents as Record<string, unknown>)) {
    const ref = childRef(child, `${where} events.${event}`, source, 'event');
    const key = `${ref.routine}.${ref.name}`;
    events.set(key, [...(events.get(key) ?? []), event]);
    eventSpecs[event] = child.routines.get(ref.routine)?.routine.eventSpecs[ref.name] ?? [];
  }
  const subflow: Subflow = { flow: child, slots, events };
  // defineRoutine checks the names, policy, strategy and limits; the specs are the child's own.
  const base = defineRoutine({
    name,
    slots: [...slots.keys()],
    events: eventSpecs,
    ...(options.policy !== undefined ? { policy: options.policy } : {}),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
    run: (ctx) => runChild(ctx as unknown as Parameters<typeof runChild>[0], subflow),
  });
  return Object.freeze({ ...base, slotSpecs: Object.freeze(slotSpecs), [SUBFLOW]: subflow }) as unknown as SubflowRoutine<TFlow, TSlots, TEvents>;
}

function childRef(flow: FlowDefinition, where: string, value: unknown, kind: 'slot' | 'event'): ChildRef {
  const known = [...flow.routines.values()].flatMap((inst) => (kind === 'slot' ? inst.routine.slotNames : inst.routine.eventNames).map((n) => `${inst.id}.${n}`));
  const inst = typeof value === 'string' ? flow.routines.get(value.split('.')[0] ?? '') : undefined;
  if (typeof value === 'string' && known.includes(value) && inst) return { routine: inst.id, name: value.slice(inst.id.length + 1) };
  const guess = typeof value === 'string' ? closest(value, known) : undefined;
  const hint = guess !== undefined ? `did you mean '${guess}'?` : `one of ${known.map((k) => `'${k}'`).join(', ') || '(none)'}`;
  throw new InvalidOptionError(where, `a ${kind} of flow '${flow.id}' as '<routine>.<${kind}>' (${hint})`, value);
}
