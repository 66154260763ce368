/**
 * Overrides: `exec(flow, { overrides: { [routineId]: { config?, policy?, onError?, timeoutMs? } } })` changes, for
 * that job only, the config (merged over the instance's), the policy, the error strategy and the activation timeout
 * of the routines it names. The flow itself and its other jobs are untouched.
 */
import type { ActivationPolicy } from '../policies/index.js';
import type { ErrorStrategy } from '../routine/index.js';

/** What one routine's override may change, for one job. */
export interface RoutineOverride {
  /** Merged over the instance's config. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Replaces the instance's policy. */
  readonly policy?: ActivationPolicy;
  /** Replaces the instance's error strategy. */
  readonly onError?: ErrorStrategy;
  /** Replaces the instance's activation timeout (ms). */
  readonly timeoutMs?: number;
}

/** `exec({ overrides })`: routine id -> its override. */
export type Overrides = Readonly<Record<string, RoutineOverride>>;
