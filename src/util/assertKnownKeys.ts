/**
 * Unknown option keys: every options object slotflow takes rejects a key it does not know, naming it and the closest
 * known key, so a typo (`concurency`) never passes silently.
 */
import { InvalidOptionError } from '../errors/index.js';
import { unknownKeyProblem } from './unknownKey.js';

export { closest } from './unknownKey.js';

/**
 * Throws `InvalidOptionError` for the first own key of `options` not in `known`.
 * `where` names the options object as users write it: `createRuntime(options)`, `exec(options)`.
 * `undefined` is allowed (no options); `null` or a non-object is an error.
 */
export function assertKnownKeys(where: string, options: unknown, known: readonly string[]): void {
  const problem = unknownKeyProblem(where, options, known);
  if (problem !== undefined) throw new InvalidOptionError(problem.option, problem.expected, problem.value);
}
