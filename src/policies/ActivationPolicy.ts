/**
 * ActivationPolicy: when a routine fires, and what it consumes.
 *
 * A policy is the guard on the routine machine's transition into `running` (`ready`) plus the consume step taken
 * on that transition (`take`). Timed policies also say when the passage of time alone can make the guard hold
 * (`dueAt`), so the runtime arms exactly one timer and no idle job polls.
 */

/** The slot queues as a policy sees them: slot name -> queued payloads, oldest first. */
export type QueuesView = Readonly<Record<string, readonly unknown[]>>;

/** What a policy knows besides the queues. */
export interface PolicyContext {
  /** The clock's current time (ms). */
  readonly now: number;
  /** When this routine last started an activation in this job, if ever. */
  readonly lastActivationAt: number | undefined;
  /** When the first item arrived into queues that were all empty (the start of a window), if data is queued. */
  readonly firstArrivalAt: number | undefined;
  readonly routineId: string;
  readonly jobId: string;
}

/** The message handed to `run` as `trigger.message`. */
export interface PolicyMessage {
  readonly reason: string;
  readonly [key: string]: unknown;
}

/** An activation policy, as built by `policies.*`. */
export interface ActivationPolicy {
  /** `'immediate'`, `'batch'`, ... or a custom policy's name. */
  readonly name: string;
  /** The parameters, for display and manifests (`{ n: 10 }`). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Slots the policy looks at; `undefined` means all of the routine's slots. */
  readonly slots: readonly string[] | undefined;
  /** The guard: may the routine fire now? */
  ready(queues: QueuesView, ctx: PolicyContext): boolean;
  /** The consume step: what to take from each slot (removed from the head of each queue, FIFO). */
  take(queues: QueuesView, ctx: PolicyContext): Readonly<Record<string, number>>;
  /** The trigger message for an activation that consumed `counts`. */
  message(counts: Readonly<Record<string, number>>, ctx: PolicyContext): PolicyMessage;
  /** For timed policies: when the guard can next become true by time alone (ms), or `undefined`. */
  dueAt?(queues: QueuesView, ctx: PolicyContext): number | undefined;
}

/** Policy functions known never to read their `ctx` argument (the built-ins' guards, consume steps and messages). */
const CONTEXT_FREE = new WeakSet<object>();

/** Marks a policy function that never reads its `ctx` (internal: users' functions are never marked). */
export function contextFree<F extends (...args: never[]) => unknown>(fn: F): F {
  CONTEXT_FREE.add(fn);
  return fn;
}

/**
 * Whether the runtime must build a `PolicyContext` for `fn`: a policy is asked on every arrival and every end of an
 * activation, and the context (an object and a clock read) measured ~2-4% of a chain hop for policies that ignore it.
 */
export function readsContext(policy: ActivationPolicy, step: 'ready' | 'take' | 'message'): boolean {
  // Only looked up, never called here.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- a policy's functions never use `this`
  const fn = policy[step];
  return !CONTEXT_FREE.has(fn);
}

/** True when any slot has data. */
export const anyQueued = contextFree((queues: QueuesView): boolean => {
  for (const key in queues) if ((queues[key]?.length ?? 0) > 0) return true;
  return false;
});

/** Take everything queued in every slot. */
export const takeAll = contextFree((queues: QueuesView): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const key in queues) counts[key] = queues[key]?.length ?? 0;
  return counts;
});
