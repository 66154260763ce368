/**
 * Activation: one attempt of a routine's `run`, as the job tracks it from the scheduler's permit to its outcome.
 */
import type { Inflight } from '../../../machines/index.js';
import type { TimerHandle } from '../../clock/index.js';
import type { AnyRoutine } from '../../routine/index.js';
import { dict } from '../../util/dict.js';

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
  /**
   * Emissions per event. Shared and frozen while the activation emitted nothing (`NO_EMISSIONS`) or one event once,
   * the common cases; its own record from a second emission on (see `countEmission`). Its history record keeps it, so
   * most activations allocate no emission record, and a retained job holds none of its own for them.
   */
  emitted: Readonly<Record<string, number>>;
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

/** What an activation that emitted nothing records (the history's records are read-only: shared). */
export const NO_EMISSIONS: Readonly<Record<string, number>> = Object.freeze(dict<number>());

/** Per routine definition: event -> the shared, frozen record of one emission of it. */
const once = new WeakMap<object, Record<string, Readonly<Record<string, number>>>>();

/** Counts one emission of `event` into `emitted`, returning the record to keep (a new one when it was shared). */
export function countEmission(routine: AnyRoutine, emitted: Readonly<Record<string, number>>, event: string): Readonly<Record<string, number>> {
  if (emitted === NO_EMISSIONS) {
    let records = once.get(routine);
    if (!records) once.set(routine, (records = dict()));
    let record = records[event];
    if (!record) {
      const one = dict<number>();
      one[event] = 1;
      records[event] = record = Object.freeze(one);
    }
    return record;
  }
  const own = Object.isFrozen(emitted) ? Object.assign(dict<number>(), emitted) : (emitted as Record<string, number>);
  own[event] = (own[event] ?? 0) + 1;
  return own;
}
