/**
 * unknownKey: the check behind `assertKnownKeys`, free of slotflow's classes so that every entry point (the main
 * one and the subpaths, which import the error classes by the package name) can share it.
 */

/** What is wrong with `options`: its first own key not in `known` (with a did-you-mean), or it is not an object. */
export function unknownKeyProblem(where: string, options: unknown, known: readonly string[]): { readonly option: string; readonly expected: string; readonly value: unknown } | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return { option: where, expected: 'an options object', value: options };
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    const hint =
      known.length === 0 ? `none: ${where} takes no options` : guess === undefined ? `known options: ${known.map((k) => `'${k}'`).join(', ')}` : `did you mean '${guess}'?`;
    return { option: `${where}.${key}`, expected: `a known option (${hint})`, value: (options as Record<string, unknown>)[key] };
  }
  return undefined;
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
