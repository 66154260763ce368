/**
 * findTooDeep: a manifest nested deeper than any flow needs (a hostile or generated document) is reported as a
 * problem with its path before anything walks it recursively, instead of overflowing the stack.
 */

/** How deep a manifest may nest (a config object inside a routine inside `routines` is depth 4). */
export const MAX_MANIFEST_DEPTH = 64;

/** The path of the first value nested deeper than `max`, or `undefined`. Iterative, so any depth is safe. */
export function findTooDeep(doc: unknown, max = MAX_MANIFEST_DEPTH): string | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: doc, path: '', depth: 0 }];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as (typeof stack)[number];
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    if (depth >= max) return path;
    seen.add(value);
    if (Array.isArray(value)) value.forEach((item: unknown, i) => stack.push({ value: item, path: `${path}[${String(i)}]`, depth: depth + 1 }));
    else for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: path === '' ? key : `${path}.${key}`, depth: depth + 1 });
  }
  return undefined;
}
