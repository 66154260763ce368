/**
 * FlowManifest: a flow written as data (JSON or YAML), as `slotflow/manifest`'s `loadFlow` reads it and
 * `toManifest` writes it. Routines are named by their definition's `name`, policies by their factory's name.
 */

/** An error strategy as data: a `retry` without `when` (a function has no manifest form). */
export type ErrorStrategyManifest =
  | 'stop'
  | 'continue'
  | 'skip'
  | {
      readonly retry: { readonly max: number; readonly backoffMs?: number; readonly factor?: number; readonly maxBackoffMs?: number };
      readonly then?: 'stop' | 'continue' | 'skip';
    };

/** A built-in policy: `'immediate'`, `'allReady'`, or `{ type, ...parameters }`. */
export type PolicyManifest =
  | 'immediate'
  | 'allReady'
  | { readonly type: 'immediate' }
  | { readonly type: 'batch'; readonly n: number; readonly slots?: readonly string[] }
  | { readonly type: 'allReady'; readonly slots?: readonly string[] }
  | { readonly type: 'interval'; readonly ms: number }
  | { readonly type: 'window'; readonly ms: number };

/** One routine of a manifest: its definition's `name` and the per-instance overrides of `flow.add`. */
export interface RoutineManifest {
  /** The routine definition's `name`, looked up in a routine registry; or `flow:<id>`, a flow of `flows` as a subflow. */
  readonly type: string;
  /** A subflow's slots (`type: flow:<id>`): slot name -> the child flow's `'<routine>.<slot>'`. */
  readonly slots?: Readonly<Record<string, string>>;
  /** A subflow's events (`type: flow:<id>`): event name -> the child flow's `'<routine>.<event>'` it re-emits. */
  readonly events?: Readonly<Record<string, string>>;
  /** Merged over the definition's config; strings may hold `${env.NAME}` or `${env.NAME:-default}`. */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly policy?: PolicyManifest;
  readonly onError?: ErrorStrategyManifest;
  readonly timeoutMs?: number;
  readonly maxQueue?: number;
  /** Where activations run; `'thread'` needs the definition's `module`. */
  readonly isolation?: 'inline' | 'thread';
  /** Limits of the routine's worker thread, in MB. */
  readonly resourceLimits?: {
    readonly maxOldGenerationSizeMb?: number;
    readonly maxYoungGenerationSizeMb?: number;
    readonly codeRangeSizeMb?: number;
    readonly stackSizeMb?: number;
  };
}

/** One connection: `from: 'routine.event'`, `to: 'routine.slot'`, and for cycle edges a bound. */
export interface ConnectionManifest {
  readonly from: string;
  readonly to: string;
  readonly name?: string;
  readonly maxIterations?: number;
  /** A convergence guard over the payload's fields: `'converged == true'`, `'n >= 10 and not failed'`. */
  readonly until?: string;
  readonly onExhausted?: 'continue' | 'fail';
}

/** A whole flow as data. */
export interface FlowManifest {
  /** A JSON Schema reference, for editors; ignored by `loadFlow`. */
  readonly $schema?: string;
  readonly id: string;
  /** Flow-level defaults: `onError` is the strategy of routines that set none. */
  readonly defaults?: { readonly onError?: ErrorStrategyManifest };
  /** Routine id -> routine. */
  readonly routines: Readonly<Record<string, RoutineManifest>>;
  readonly connections?: readonly ConnectionManifest[];
  /** Where exec params are delivered. @default the first routine, its first slot */
  readonly entry?: { readonly routine: string; readonly slot?: string };
  /** Flows used as subflows (`type: flow:<id>`) by this flow or by one another, by id. */
  readonly flows?: Readonly<Record<string, SubflowManifest>>;
}

/** A flow of a manifest's `flows` section: a manifest without `id` (its key) and without `flows` of its own. */
export type SubflowManifest = Omit<FlowManifest, 'id' | '$schema' | 'flows'>;
