/**
 * decideFailure: applies an error strategy to one failed attempt.
 */
import type { ErrorStrategy, FailureDecision } from '../../routine/index.js';

/** What to do after attempt `attempt` (0-based) failed with `error`, and how long to wait before a retry. */
export function decideFailure(strategy: ErrorStrategy, attempt: number, error: unknown): { decision: FailureDecision; delayMs: number } {
  if (typeof strategy === 'string') return { decision: strategy, delayMs: 0 };
  const { retry } = strategy;
  let wanted = attempt < retry.max;
  if (wanted && retry.when) {
    try {
      wanted = retry.when(error);
    } catch {
      wanted = false; // a predicate that throws cannot vouch for a retry
    }
  }
  if (!wanted) return { decision: strategy.then ?? 'stop', delayMs: 0 };
  const base = retry.backoffMs ?? 0;
  const delay = base * (retry.factor ?? 2) ** attempt;
  return { decision: 'retry', delayMs: Math.min(delay, retry.maxBackoffMs ?? Number.POSITIVE_INFINITY) };
}
