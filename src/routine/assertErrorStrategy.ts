/**
 * Checks an error strategy where it is declared, so a typo fails at definition time, not mid-job.
 */
import { InvalidOptionError } from '../errors/index.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { assertDuration, assertNonNegativeInteger, assertPositiveNumber } from '../util/assertOption.js';
import type { ErrorStrategy } from './ErrorStrategy.js';

const SIMPLE = ['stop', 'continue', 'skip'];

export function assertErrorStrategy(option: string, value: unknown): asserts value is ErrorStrategy {
  if (typeof value === 'string') {
    if (!SIMPLE.includes(value)) throw new InvalidOptionError(option, "'stop', 'continue', 'skip' or { retry }", value);
    return;
  }
  if (typeof value !== 'object' || value === null || !('retry' in value) || typeof value.retry !== 'object' || value.retry === null)
    throw new InvalidOptionError(option, "'stop', 'continue', 'skip' or { retry: { max } }", value);
  assertKnownKeys(option, value, ['retry', 'then']);
  assertKnownKeys(`${option}.retry`, value.retry, ['max', 'backoffMs', 'factor', 'maxBackoffMs', 'when']);
  const retry = value.retry as Record<string, unknown>;
  assertNonNegativeInteger(`${option}.retry.max`, retry.max);
  if (retry.backoffMs !== undefined) assertDuration(`${option}.retry.backoffMs`, retry.backoffMs);
  if (retry.factor !== undefined) assertPositiveNumber(`${option}.retry.factor`, retry.factor);
  if (retry.maxBackoffMs !== undefined) assertDuration(`${option}.retry.maxBackoffMs`, retry.maxBackoffMs);
  if (retry.when !== undefined && typeof retry.when !== 'function') throw new InvalidOptionError(`${option}.retry.when`, 'a function', retry.when);
  const then = (value as { then?: unknown }).then;
  if (then !== undefined && !SIMPLE.includes(then as string)) throw new InvalidOptionError(`${option}.then`, "'stop', 'continue' or 'skip'", then);
}
