/**
 * Unknown option keys: every options object slotflow takes rejects a key it does not know, naming it and the closest
 * known key, so a typo (`concurency`) never passes silently.
 */
import { InvalidOptionError } from '../errors/index.js';

/**
 * Throws `InvalidOptionError` for the first own key of `options` not in `known`.
 * `where` names the options object as users write it: `createRuntime(options)`, `exec(options)`.
 * `undefined` is allowed (no options); `null` or a non-object is an error.
 */
export function assertKnownKeys(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError(where, 'an options object', options);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    const hint =
      known.length === 0 ? `none: ${where} takes no options` : guess === undefined ? `known options: ${known.map((k) => `'${k}'`).join(', ')}` : `did you mean '${guess}'?`;
    throw new InvalidOptionError(`${where}.${key}`, `a known option (${hint})`, (options as Record<string, unknown>)[key]);
  }
}

/** The known key nearest to `key` by edit distance, when near enough to be a plausible typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = key.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    // Near enough to be a typo: up to a third of the longer name (at least 2), so a dropped unit suffix
    // (`backof` for `backoffMs`) is still recognised.
    const plausible = distance <= Math.max(2, Math.floor(Math.max(key.length, candidate.length) / 3));
    if (plausible && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance (two rows; names are short). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
