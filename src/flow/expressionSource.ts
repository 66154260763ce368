/**
 * Expression sources: the text a function was compiled from (a manifest's `until: 'converged == true'`), kept
 * beside the function so `toManifest` can write it back and `toMermaid` can show it.
 */

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any function may carry a source
const sources = new WeakMap<Function, string>();

/**
 * Records that `fn` was compiled from the expression `source`; returns `fn`. `slotflow/manifest` does this for every
 * `until` it compiles, so a loaded flow writes the same expressions back out.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any function may carry a source
export function setExpressionSource<TFn extends Function>(fn: TFn, source: string): TFn {
  sources.set(fn, source);
  return fn;
}

/** The expression `fn` was compiled from, or `undefined` for a plain function. */
export function expressionSourceOf(fn: unknown): string | undefined {
  return typeof fn === 'function' ? sources.get(fn) : undefined;
}
