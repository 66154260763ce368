/**
 * RoutineDefinition: a unit of logic with named input slots, named output events, config, an activation policy
 * and an error strategy. One definition serves every job at once; it holds no mutable state.
 */
import type { Draft } from 'immer';
import type { ActivationPolicy, PolicyMessage } from '../policies/index.js';
import type { Isolation, ThreadResourceLimits } from '../threads/isolation.js';
import type { ErrorStrategy } from './ErrorStrategy.js';
import type { TypeMarker } from './markers.js';
import type { InferSchemaOutput, StandardSchemaV1 } from './StandardSchema.js';
import type { ProgressUpdate } from '../types/ProgressUpdate.js';
import type { ResourceTypes } from '../runtime/Resources.js';
import type { Payload } from '../types/Payload.js';

export type { Payload };

/** How slots are declared: names, or a record of name -> `slot<T>()` / Standard Schema. */
export type SlotsInput = readonly string[] | Readonly<Record<string, TypeMarker<object> | StandardSchemaV1>>;
/** How events are declared: name -> field names, `event<T>()`, or a Standard Schema. */
export type EventsInput = Readonly<Record<string, readonly string[] | TypeMarker<object> | StandardSchemaV1>>;

type SpecPayload<S> = S extends TypeMarker<infer T> ? T : S extends StandardSchemaV1 ? InferSchemaOutput<S> : Payload;

/** Slot name -> payload type. */
export type SlotsOf<S> = S extends readonly (infer K extends string)[] ? Record<K, Payload> : { [P in keyof S & string]: SpecPayload<S[P]> };
/** Event name -> payload type. */
export type EventsOf<E> = {
  [P in keyof E & string]: E[P] extends readonly (infer F extends string)[] ? Readonly<Record<F, unknown>> : SpecPayload<E[P]>;
};

/** An updater: an immer recipe (mutate the draft, or return a new value), or a replacement value. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- an immer recipe mutates (void) or returns
export type Updater<T> = T | ((draft: Draft<T>) => void | T);

/** What fired an activation. */
export interface Trigger {
  /** The policy's name. */
  readonly policy: string;
  /** The policy's message (`{ reason: 'batch', size: 10 }`). */
  readonly message?: PolicyMessage;
}

/** What `run` receives. */
export interface RunContext<TSlots, TEvents, TConfig, TState> {
  /** Slot name -> the payloads this activation consumed (empty for a slot that gave nothing). */
  readonly slots: { readonly [K in keyof TSlots]: readonly TSlots[K][] };
  /** The definition's config merged with the flow's per-instance overrides. */
  readonly config: Readonly<TConfig>;
  /**
   * Routes `payload` to every slot connected to `event`, in connection order. (Properties, not methods: destructure
   * them freely. `state`, `shared` and `signal` are getters: destructuring reads them; a spread copy of the context
   * does not carry them.)
   */
  readonly emit: <K extends keyof TEvents & string>(event: K, payload: TEvents[K]) => void;
  /** This routine's state within this job (the latest, after any `setState`). */
  readonly state: TState;
  /** Updates this routine's state with an immer recipe or a replacement value. */
  readonly setState: (update: Updater<TState>) => void;
  /** The job's shared data (the latest). */
  readonly shared: Readonly<Record<string, unknown>>;
  readonly setShared: (update: Updater<Record<string, unknown>>) => void;
  /** Appends an entry to the job's shared log. */
  readonly log: (entry: unknown) => void;
  /** Aborts when the job is cancelled or the activation times out. */
  readonly signal: AbortSignal;
  readonly trigger: Trigger;
  readonly job: { readonly id: string; readonly flowId: string };
  /** This routine's id in the flow. */
  readonly routineId: string;
  /** 0 for the first attempt, k for the k-th retry. */
  readonly attempt: number;
  /**
   * Reports how far this activation got: a `routine.progress` event (at most one per routine per job per 100 ms;
   * the activation's last one always goes out, before its `routine.completed`).
   */
  readonly progress: (update: ProgressUpdate) => void;
  /**
   * A resource of the runtime (`createRuntime({ resources })`), created on first use and shared by every job.
   * Rejects with `UnknownResourceError` for a name the runtime does not have, `ResourceError` when creating it failed,
   * and always with `ThreadResourceError` in a routine running on a worker thread (a live object cannot be copied there).
   */
  readonly resource: <K extends string>(name: K) => Promise<K extends keyof ResourceTypes ? ResourceTypes[K] : unknown>;
}

/** What a routine's `cleanup` receives, once per job it ran in, when the job has ended. */
export interface CleanupContext<TState> {
  readonly job: { readonly id: string; readonly flowId: string };
  /** This routine's id in the flow. */
  readonly routineId: string;
  /** The job's final status. */
  readonly status: 'completed' | 'failed' | 'cancelled';
  /** This routine's final state within the job. */
  readonly state: TState;
  /** A resource of the runtime, as in `run` (still there: resources are disposed after every cleanup). */
  readonly resource: RunContext<unknown, unknown, unknown, unknown>['resource'];
}

/** What `defineRoutine` takes. */
export interface RoutineOptions<S extends SlotsInput, E extends EventsInput, TConfig extends object, TState> {
  /** A type name, used by manifests and registries. */
  readonly name: string;
  readonly slots: S;
  /** @default {} (no events) */
  readonly events?: E;
  /** Defaults; a flow may override per instance. @default {} */
  readonly config?: TConfig;
  /** @default {} */
  readonly initialState?: TState;
  /** @default policies.immediate() */
  readonly policy?: ActivationPolicy;
  /** @default the flow's strategy, else 'stop' */
  readonly onError?: ErrorStrategy;
  /** Per activation, in ms. @default no timeout */
  readonly timeoutMs?: number;
  /** Per slot. @default 1000 */
  readonly maxQueue?: number;
  /**
   * Where each activation runs: `'inline'` on the main thread, or `'thread'` on a worker thread of the runtime's pool
   * (for CPU-bound work; the context is copied in, see docs/threads.md). `'thread'` needs `module`. @default 'inline'
   */
  readonly isolation?: Isolation;
  /** The module that exports this definition, for a worker thread to import: `import.meta.url`. @default none */
  readonly module?: string;
  /** Limits of the worker thread (isolation `'thread'`): one pool per distinct limits. @default Node.js's defaults */
  readonly resourceLimits?: ThreadResourceLimits;
  run(ctx: RunContext<SlotsOf<S>, EventsOf<E>, TConfig, TState>): void | Promise<void>;
  /**
   * Called once per job for this routine if it ran in the job (at least one activation started), when the job has
   * ended, whatever its status, after its last activation settled. Awaited before `job.wait()` resolves; what it
   * throws is a `job.warning` event (code `'cleanup.failed'`), never a changed status.
   */
  cleanup?(ctx: CleanupContext<TState>): void | Promise<void>;
}

/** A routine definition as `defineRoutine` returns it. Generic parameters are the slot, event, config and state types. */
export interface RoutineDefinition<TSlots = Record<string, Payload>, TEvents = Record<string, Payload>, TConfig = object, TState = unknown> {
  readonly kind: 'slotflow.routine';
  readonly name: string;
  readonly slotNames: readonly string[];
  readonly eventNames: readonly string[];
  /** Slot name -> schema or marker, where declared. */
  readonly slotSpecs: Readonly<Record<string, TypeMarker<object> | StandardSchemaV1 | undefined>>;
  /** Event name -> declared fields, marker or schema. */
  readonly eventSpecs: Readonly<Record<string, readonly string[] | TypeMarker<object> | StandardSchemaV1>>;
  readonly config: Readonly<TConfig>;
  readonly initialState: TState;
  readonly policy: ActivationPolicy;
  readonly onError: ErrorStrategy | undefined;
  readonly timeoutMs: number | undefined;
  readonly maxQueue: number;
  readonly isolation: Isolation;
  /** The defining module's `file:` URL, when given. */
  readonly module: string | undefined;
  readonly resourceLimits: ThreadResourceLimits | undefined;
  readonly run: (ctx: RunContext<TSlots, TEvents, TConfig, TState>) => void | Promise<void>;
  /** Runs once per job this routine ran in, when the job has ended (see `RoutineOptions.cleanup`). */
  readonly cleanup: ((ctx: CleanupContext<TState>) => void | Promise<void>) | undefined;
  /** Type-only: the payload types, for the flow builder. */
  readonly '~types'?: { readonly slots: TSlots; readonly events: TEvents; readonly config: TConfig; readonly state: TState };
}

/** Any routine definition (the one place where variance is erased). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoutine = RoutineDefinition<any, any, any, any>;

type TypesOf<R> = NonNullable<R extends { readonly '~types'?: infer T } ? T : never>;
export type SlotsOfRoutine<R> = TypesOf<R> extends { readonly slots: infer S } ? S : never;
export type EventsOfRoutine<R> = TypesOf<R> extends { readonly events: infer E } ? E : never;
export type ConfigOfRoutine<R> = TypesOf<R> extends { readonly config: infer C } ? C : never;
