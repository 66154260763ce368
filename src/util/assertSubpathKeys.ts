/**
 * assertKnownKeys for the subpath entries (`slotflow/rx`, `/testing`, `/manifest`, `/otel`): the same check, throwing
 * the `InvalidOptionError` of the package's main entry (imported by name, so `instanceof` holds across entries).
 * The main entry never imports this file.
 */
import { InvalidOptionError } from 'slotflow';
import { unknownKeyProblem } from './unknownKey.js';

/** Throws `InvalidOptionError` for the first own key of `options` not in `known` (see `assertKnownKeys`). */
export function assertKnownKeys(where: string, options: unknown, known: readonly string[]): void {
  const problem = unknownKeyProblem(where, options, known);
  if (problem !== undefined) throw new InvalidOptionError(problem.option, problem.expected, problem.value);
}
