/**
 * Activation: one attempt of a routine's `run`, as the job tracks it from the scheduler's permit to its outcome.
 */
import type { Inflight } from '../../../machines/index.js';
import type { TimerHandle } from '../../clock/index.js';

export interface Activation {
  readonly attempt: number;
  /** Metrics clock (`services.metrics.stamp()`): when the routine's policy took the data and the activation waited for the scheduler. */
  readonly queuedAt: number;
  /** Metrics clock: when `run` was called. */
  readonly runAt: number;
  readonly inflight: Inflight;
  /** Created on first use of `signal`: most activations never look at it. */
  controller: AbortController | undefined;
  readonly startedAt: number;
  readonly emitted: Record<string, number>;
  settled: boolean;
  timeout: TimerHandle;
  /** A delivery failure (full queue, failed cycle bound) fails the activation even if `run` caught it. */
  poison: Error | undefined;
  /** Set when the failure decision is `retry`. */
  retryDelayMs: number;
  /** The user's `run` has not returned or settled yet: the activation holds its scheduler permit until it does. */
  running: boolean;
  /** Given up on (timed out, or its job ended) while `run` was still running: the permit goes back when it settles. */
  holding: boolean;
  /** `holding`, and `run` never read its `signal`: nothing can have told it to stop (reported as `abandoned`). */
  abandoned: boolean;
  /** Why it was aborted, if it was before anyone asked for the signal. */
  aborted?: { readonly reason: unknown };
  /** `ctx.progress()` was called: a held update goes out before the activation's end event. */
  progressed?: boolean;
  /** The routine's state when `run` was called: a snapshot taken while it runs saves this one (see `takeSnapshot`). */
  readonly stateAtStart: unknown;
  /** Emissions that passed validation so far (delivered or, in a replay, skipped). */
  emits: number;
  /** A restored activation's re-run: its first `replay` emissions were delivered before the snapshot. */
  readonly replay: number;
}

/** The activation's signal, created on first use. */
export function signalOf(act: Activation): AbortSignal {
  if (!act.controller) {
    act.controller = new AbortController();
    if (act.aborted) act.controller.abort(act.aborted.reason);
  }
  return act.controller.signal;
}

/** Aborts the activation's signal (or records why, for a signal not created yet). */
export function abortActivation(act: Activation, reason: unknown): void {
  if (act.controller) act.controller.abort(reason);
  else act.aborted = { reason };
}

