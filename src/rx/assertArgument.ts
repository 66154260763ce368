/**
 * Argument checks shared by the slotflow/rx functions: misuse throws `InvalidOptionError` at once, naming the
 * function and the argument.
 */
import { from, isObservable, type Observable, type ObservableInput } from 'rxjs';
import { InvalidOptionError, Job, Runtime } from 'slotflow';

export function assertJob(where: string, value: unknown): asserts value is Job {
  if (!(value instanceof Job)) throw new InvalidOptionError(where, 'a Job (from runtime.exec)', value);
}

export function assertRuntime(where: string, value: unknown): asserts value is Runtime {
  if (!(value instanceof Runtime)) throw new InvalidOptionError(where, 'a Runtime (from createRuntime)', value);
}

export function assertName(where: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError(where, 'a non-empty string', value);
}

export function assertFunction(where: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(where, 'a function', value);
}

/** An integer from 1 and up, or `Infinity`. */
export function assertLimit(where: string, value: unknown): asserts value is number {
  if (value === Number.POSITIVE_INFINITY) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidOptionError(where, 'an integer from 1 and up, or Infinity', value);
}

/** `from(input)`, with a typed error for what is not an Observable, promise, array or iterable. */
export function toObservable<T>(where: string, input: ObservableInput<T>): Observable<T> {
  if (isObservable(input)) return input;
  try {
    return from(input);
  } catch {
    throw new InvalidOptionError(where, 'an Observable (or a promise, array or iterable)', input);
  }
}
