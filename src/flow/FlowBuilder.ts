/**
 * FlowBuilder: the type of what `createFlow` returns, on its own so the functions that take a builder (`toManifest`,
 * `toMermaid`) can name it without importing `createFlow`, which imports them.
 */
import type { FlowProblem } from '../errors/index.js';
import type { ActivationPolicy } from '../policies/index.js';
import type { AnyRoutine, ConfigOfRoutine, ErrorStrategy, SlotsOfRoutine } from '../routine/index.js';
import type { Isolation, ThreadResourceLimits } from '../threads/isolation.js';
import type { ConnectOptions, FlowDefinition } from './FlowDefinition.js';
import type { FlowManifest } from './FlowManifest.js';
import type { OnlySlotPayload } from './typedEdges.js';
import type { EventPayloadOf, EventRef, RoutineMap, SlotPayloadOf, SlotRef } from './types.js';

/** Per-instance overrides for `flow.add(id, routine, options)`. */
export interface AddOptions<TRoutine extends AnyRoutine = AnyRoutine> {
  /** Merged over the routine's config defaults. */
  readonly config?: Partial<ConfigOfRoutine<TRoutine>>;
  readonly policy?: ActivationPolicy;
  readonly onError?: ErrorStrategy;
  readonly timeoutMs?: number;
  readonly maxQueue?: number;
  /** Run this instance's activations on the main thread or a worker thread (`'thread'` needs the definition's `module`). */
  readonly isolation?: Isolation;
  /** The worker thread's limits for this instance. */
  readonly resourceLimits?: ThreadResourceLimits;
}

type Payload = Readonly<Record<string, unknown>>;
/** A slot declared without a type accepts any payload; a typed slot only payloads assignable to its type. */
type CheckPayload<TEvent, TSlot> = Payload extends TSlot ? unknown : [TEvent] extends [TSlot] ? unknown : { readonly '~error': 'the event payload does not fit the slot type' };

/**
 * The flow builder; every method returns the builder. `TRoutines` maps ids to the routines added; `TParams` is the
 * payload type of the entry slot (what `exec(flow, { params })` takes), `Payload` where it is not typed.
 */
// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- a new builder has no routines yet
export interface FlowBuilder<TRoutines extends RoutineMap = Record<never, never>, TParams = Payload> {
  readonly id: string;
  /** Adds a routine under a unique id. */
  add<const TId extends string, TRoutine extends AnyRoutine>(
    id: TId extends keyof TRoutines ? never : TId,
    routine: TRoutine,
    options?: AddOptions<TRoutine>,
  ): FlowBuilder<TRoutines & Record<TId, TRoutine>, [keyof TRoutines] extends [never] ? OnlySlotPayload<TRoutine> : TParams>;
  /** Connects an event to a slot: `connect('fetcher.output', 'collector.input')`. */
  connect<TFrom extends EventRef<TRoutines>, TTo extends SlotRef<TRoutines>>(
    from: TFrom,
    to: TTo & CheckPayload<EventPayloadOf<TRoutines, TFrom>, SlotPayloadOf<TRoutines, TTo>>,
    options?: ConnectOptions<EventPayloadOf<TRoutines, TFrom>>,
  ): FlowBuilder<TRoutines, TParams>;
  /** Where exec params are delivered. @default the first routine added, its first slot */
  entry<TId extends keyof TRoutines & string, TSlot extends keyof SlotsOfRoutine<TRoutines[TId]> & string = never>(
    routine: TId,
    slot?: TSlot,
  ): FlowBuilder<TRoutines, [TSlot] extends [never] ? OnlySlotPayload<TRoutines[TId]> : SlotsOfRoutine<TRoutines[TId]>[TSlot]>;
  /** The default error strategy of the flow's routines. @default 'stop' */
  onError(strategy: ErrorStrategy): FlowBuilder<TRoutines, TParams>;
  /** Every problem that would stop this flow from running; empty when it is valid. */
  validate(): FlowProblem[];
  /** The immutable, compiled flow. Throws `FlowValidationError` listing every problem. */
  compile(): FlowDefinition;
  /** The flow as a Mermaid `flowchart` (drawn as it stands, valid or not). */
  toMermaid(): string;
  /**
   * The flow as a manifest for `slotflow/manifest`'s `loadFlow`. Throws `FlowValidationError` for an invalid flow and
   * `ManifestError` for parts with no manifest form (a custom policy, an `until` function, a non-JSON config value).
   */
  toManifest(): FlowManifest;
}
