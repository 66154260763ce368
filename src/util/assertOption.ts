/**
 * Option checks with p-queue style messages: "Expected `concurrency` to be an integer from 1 and up, got 0 (number)".
 */
import { InvalidOptionError } from '../errors/index.js';

export function assertPositiveInteger(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidOptionError(option, 'an integer from 1 and up', value);
}

/** Like `assertPositiveInteger`, but `Infinity` is allowed (an unbounded limit). */
export function assertLimit(option: string, value: unknown): asserts value is number {
  if (value === Number.POSITIVE_INFINITY) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new InvalidOptionError(option, 'an integer from 1 and up, or Infinity', value);
}

export function assertNonNegativeInteger(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InvalidOptionError(option, 'an integer from 0 and up', value);
}

/** A duration in milliseconds: finite and >= 0 (fractions allowed). */
export function assertDuration(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new InvalidOptionError(option, 'a finite number of milliseconds from 0 and up', value);
}

export function assertPositiveNumber(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidOptionError(option, 'a finite number above 0', value);
}
