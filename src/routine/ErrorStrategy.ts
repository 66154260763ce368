/**
 * ErrorStrategy: what happens when an activation fails.
 */

/** Retry settings: re-run the same activation with the same consumed data. */
export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly max: number;
  /** Wait before retry k is `backoffMs * factor^k` (k from 0). @default 0 */
  readonly backoffMs?: number;
  /** @default 2 */
  readonly factor?: number;
  /** Cap on the wait. @default Infinity */
  readonly maxBackoffMs?: number;
  /** Retry only when this says so. @default always */
  readonly when?: (error: unknown) => boolean;
}

export type ErrorStrategy =
  | 'stop'
  | 'continue'
  | 'skip'
  | { readonly retry: RetryOptions; readonly then?: 'stop' | 'continue' | 'skip' };

/** What the routine machine does with one failed attempt. */
export type FailureDecision = 'retry' | 'stop' | 'continue' | 'skip';
