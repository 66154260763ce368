/**
 * Expression sources: the text a function was compiled from (a manifest's `until: 'converged == true'`), kept
 * beside the function so `toManifest` can write it back and `toMermaid` can show it.
 *
 * Kept on the function itself under a registered symbol, not in a module-level map: `slotflow/manifest` (which
 * records them) and `slotflow` (which reads them) are separate bundles, and each carries its own copy of this file.
 */

const SOURCE: unique symbol = Symbol.for('slotflow.expressionSource') as never;

/**
 * Records that `fn` was compiled from the expression `source`; returns `fn`. `slotflow/manifest` does this for every
 * `until` it compiles, so a loaded flow writes the same expressions back out. Internal: not exported by `slotflow`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any function may carry a source
export function setExpressionSource<TFn extends Function>(fn: TFn, source: string): TFn {
  Object.defineProperty(fn, SOURCE, { value: source, enumerable: false, writable: false, configurable: false });
  return fn;
}

/** The expression `fn` was compiled from, or `undefined` for a plain function. */
export function expressionSourceOf(fn: unknown): string | undefined {
  if (typeof fn !== 'function' || !Object.hasOwn(fn, SOURCE)) return undefined;
  const source: unknown = (fn as unknown as Record<symbol, unknown>)[SOURCE];
  return typeof source === 'string' ? source : undefined;
}
