/**
 * defineRoutine: checks a routine's declaration once, up front, and returns an immutable definition.
 */
import { describeValue, InvalidOptionError, RoutineDefinitionError } from '../errors/index.js';
import { policies } from '../policies/index.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { freezeLimits, isolationProblems, moduleUrl } from '../threads/isolation.js';
import { assertDuration, assertPositiveInteger } from '../util/assertOption.js';
import { reservedNameProblem } from '../util/reservedName.js';
import { assertErrorStrategy } from './assertErrorStrategy.js';
import { isTypeMarker, type TypeMarker } from './markers.js';
import type { EventsInput, EventsOf, RoutineDefinition, RoutineOptions, SlotsInput, SlotsOf } from './RoutineDefinition.js';
import { isStandardSchema, type StandardSchemaV1 } from './StandardSchema.js';
import { deepFreeze } from '../util/deepFreeze.js';
import { dict } from '../util/dict.js';

/** The default bound of every slot queue. */
export const DEFAULT_MAX_QUEUE = 1000;

const ROUTINE_KEYS = ['name', 'slots', 'events', 'config', 'initialState', 'policy', 'onError', 'timeoutMs', 'maxQueue', 'run', 'isolation', 'module', 'resourceLimits', 'cleanup'] as const;

/**
 * Defines a routine.
 * @example
 * const double = defineRoutine({
 *   name: 'double',
 *   slots: ['input'],
 *   events: { output: ['value'] },
 *   run({ slots, emit }) {
 *     for (const { value } of slots.input) emit('output', { value: Number(value) * 2 });
 *   },
 * });
 */
export function defineRoutine<
  const S extends SlotsInput,
  // eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- a routine may declare no events or config
  const E extends EventsInput = Record<never, never>,
  // eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- a routine may declare no config
  TConfig extends object = Record<never, never>,
  TState = Record<string, unknown>,
>(options: RoutineOptions<S, E, TConfig, TState>): RoutineDefinition<SlotsOf<S>, EventsOf<E>, TConfig, TState> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
  if (options === undefined) throw new InvalidOptionError('defineRoutine(options)', 'a routine declaration { name, slots, run }', options);
  assertKnownKeys('defineRoutine(options)', options, ROUTINE_KEYS);
  const name = typeof options.name === 'string' ? options.name : '';
  const problems: string[] = [];
  if (name === '') problems.push(`expected \`name\` to be a non-empty string, got ${describeValue(options.name)}`);
  if (typeof options.run !== 'function') problems.push('expected `run` to be a function');
  const { slotNames, slotSpecs } = slotsOf(options.slots, problems);
  if (slotNames.length === 0 && problems.length === 0) problems.push('a routine needs at least one slot');
  const eventSpecs = eventsOf(options.events, problems);
  problems.push(...isolationProblems(options));
  if (problems.length) throw new RoutineDefinitionError(name || '(unnamed)', problems);
  assertOptions(options, name);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its context object, never `this`
  const { cleanup } = options;

  return Object.freeze({
    kind: 'slotflow.routine',
    name,
    slotNames: Object.freeze(slotNames),
    eventNames: Object.freeze(Object.keys(eventSpecs)),
    slotSpecs: Object.freeze(slotSpecs),
    eventSpecs: Object.freeze(eventSpecs),
    // Deep-frozen in place (plain objects and arrays; class instances such as clients stay usable): every job of
    // every flow starts from the same initial state and reads the same config, whatever a routine tries.
    config: deepFreeze({ ...(options.config ?? {}) }) as TConfig,
    initialState: deepFreeze(options.initialState ?? {}) as TState,
    policy: options.policy ?? policies.immediate(),
    onError: options.onError,
    timeoutMs: options.timeoutMs,
    maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
    isolation: options.isolation ?? 'inline',
    module: options.module === undefined ? undefined : moduleUrl(options.module),
    resourceLimits: freezeLimits(options.resourceLimits),
    // eslint-disable-next-line @typescript-eslint/unbound-method -- `run` is called with its context object, never `this`
    run: options.run,
    cleanup,
  });
}

/** Pushes to `problems` the problem of a reserved slot, event or field name; true if there was one. */
function reserved(problems: string[], what: string, key: string): boolean {
  const problem = reservedNameProblem(what, key);
  if (problem !== undefined) problems.push(problem);
  return problem !== undefined;
}

/** The declared slots (names in order, and the spec of each), pushing what is wrong with them to `problems`. */
function slotsOf(slots: unknown, problems: string[]): { slotNames: string[]; slotSpecs: Record<string, TypeMarker<object> | StandardSchemaV1 | undefined> } {
  // Null-prototype records: a slot or event named like an Object.prototype member (`constructor`) is a plain key.
  const slotSpecs = dict<TypeMarker<object> | StandardSchemaV1 | undefined>();
  const slotNames: string[] = [];
  if (Array.isArray(slots)) {
    for (const slot of slots as readonly unknown[]) {
      if (typeof slot !== 'string' || slot === '') problems.push(`slot names must be non-empty strings, got ${String(slot)}`);
      else if (slotNames.includes(slot)) problems.push(`slot '${slot}' is declared twice`);
      else if (slot.includes('.')) problems.push(`slot '${slot}' must not contain '.'`);
      else if (!reserved(problems, 'slot', slot)) {
        slotNames.push(slot);
        slotSpecs[slot] = undefined;
      }
    }
  } else if (typeof slots === 'object' && slots !== null) {
    for (const [slot, spec] of Object.entries(slots as Record<string, unknown>)) {
      if (slot.includes('.')) problems.push(`slot '${slot}' must not contain '.'`);
      else if (reserved(problems, 'slot', slot)) continue;
      else if (!isTypeMarker(spec) && !isStandardSchema(spec)) problems.push(`slot '${slot}' must be declared with slot<T>() or a Standard Schema`);
      else {
        slotNames.push(slot);
        slotSpecs[slot] = spec;
      }
    }
  } else problems.push('expected `slots` to be an array of names or a record of slot specs');
  return { slotNames, slotSpecs };
}

/** The declared events and their specs, pushing what is wrong with them to `problems`. */
function eventsOf(declared: unknown, problems: string[]): Record<string, readonly string[] | TypeMarker<object> | StandardSchemaV1> {
  const eventSpecs = dict<readonly string[] | TypeMarker<object> | StandardSchemaV1>();
  const events: unknown = declared ?? {};
  const eventsOk = typeof events === 'object' && events !== null && !Array.isArray(events);
  if (!eventsOk) problems.push(`expected \`events\` to be a record of event specs, got ${describeValue(events)}`);
  for (const [event, spec] of Object.entries(eventsOk ? (events as Record<string, unknown>) : {})) {
    if (event.includes('.')) problems.push(`event '${event}' must not contain '.'`);
    else if (reserved(problems, 'event', event)) continue;
    else if (Array.isArray(spec)) {
      if (spec.some((f) => typeof f !== 'string')) problems.push(`event '${event}' fields must be strings`);
      else for (const field of spec as string[]) reserved(problems, `field of event '${event}'`, field);
      eventSpecs[event] = Object.freeze([...(spec as string[])]);
    } else if (isTypeMarker(spec) || isStandardSchema(spec)) {
      if (isTypeMarker(spec)) for (const field of spec.fields) reserved(problems, `field of event '${event}'`, field);
      eventSpecs[event] = spec;
    }
    else problems.push(`event '${event}' must be declared with a list of field names, event<T>() or a Standard Schema`);
  }
  return eventSpecs;
}

/** The options checked one by one, after the declaration's problems (which are reported together). */
function assertOptions<S extends SlotsInput, E extends EventsInput, TConfig extends object, TState>(options: RoutineOptions<S, E, TConfig, TState>, name: string): void {
  if (options.timeoutMs !== undefined) assertDuration(`routine '${name}' timeoutMs`, options.timeoutMs);
  if (options.maxQueue !== undefined) assertPositiveInteger(`routine '${name}' maxQueue`, options.maxQueue);
  if (options.onError !== undefined) assertErrorStrategy(`routine '${name}' onError`, options.onError);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its context object, never `this`
  const { cleanup } = options;
  if (cleanup !== undefined && typeof cleanup !== 'function') throw new InvalidOptionError(`routine '${name}' cleanup`, 'a function ({ job, routineId, status, state }) => void', cleanup);
  if (options.policy !== undefined && (typeof options.policy !== 'object' || typeof options.policy.ready !== 'function'))
    throw new InvalidOptionError(`routine '${name}' policy`, 'a policy from policies.*', options.policy);
}

/** True for a value returned by `defineRoutine`. */
export function isRoutineDefinition(value: unknown): value is RoutineDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'slotflow.routine';
}
