/**
 * FlowDefinition: the compiled, immutable form of a flow that the runtime executes.
 */
import type { ActivationPolicy } from '../policies/index.js';
import type { AnyRoutine, ErrorStrategy, Payload } from '../routine/index.js';
import type { Isolation, ThreadResourceLimits } from '../threads/isolation.js';

/** A routine placed in a flow, with its per-instance overrides applied. */
export interface RoutineInstance {
  readonly id: string;
  readonly routine: AnyRoutine;
  readonly config: Readonly<Record<string, unknown>>;
  readonly policy: ActivationPolicy;
  /** `undefined`: the flow's strategy, else 'stop'. */
  readonly onError: ErrorStrategy | undefined;
  readonly timeoutMs: number | undefined;
  readonly maxQueue: number;
  /** Where its activations run (the definition's, unless `flow.add` overrides it). */
  readonly isolation: Isolation;
  readonly resourceLimits: ThreadResourceLimits | undefined;
}

/** Context handed to a cycle's `until`. */
export interface CycleContext {
  /** Deliveries over this edge so far in this job. */
  readonly iterations: number;
  readonly jobId: string;
  readonly edge: string;
}

/** Options of `flow.connect(from, to, options)`. */
export interface ConnectOptions<TPayload = Payload> {
  /** The edge's name (in `cycles`); default `'<from>-><to>'`. */
  readonly name?: string;
  /** Bound on deliveries over this edge: required on an edge that closes a cycle. */
  readonly maxIterations?: number;
  /** Convergence guard: when it returns true, the payload is not delivered over this edge. */
  readonly until?: (payload: TPayload, ctx: CycleContext) => boolean;
  /** Hitting `maxIterations` without converging: `'continue'` (record it; the default) or `'fail'` the job. */
  readonly onExhausted?: 'continue' | 'fail';
}

/** A compiled connection. */
export interface Connection {
  readonly index: number;
  readonly name: string;
  readonly from: { readonly routine: string; readonly event: string };
  readonly to: { readonly routine: string; readonly slot: string };
  /** Set when the edge is bounded (every cycle contains at least one bounded edge). */
  readonly bound: { readonly maxIterations: number; readonly until: ((payload: Payload, ctx: CycleContext) => boolean) | undefined; readonly onExhausted: 'continue' | 'fail' } | undefined;
}

export interface FlowDefinition {
  readonly kind: 'slotflow.flow';
  readonly id: string;
  readonly routines: ReadonlyMap<string, RoutineInstance>;
  readonly connections: readonly Connection[];
  /** `'<routine>.<event>'` -> its connections, in connection order. */
  readonly outgoing: ReadonlyMap<string, readonly Connection[]>;
  readonly entry: { readonly routine: string; readonly slot: string } | undefined;
  readonly onError: ErrorStrategy | undefined;
}
