/**
 * describeInput: how a manifest value is named in a problem ("expected a positive integer, got -1").
 */

/** `-1`, `'abc'`, `true`, `null`, `an array`, `an object`, `nothing`. */
export function describeInput(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return 'an object';
}

/** `'a', 'b', 'c'`, or `(none)`. */
export function quoteList(items: readonly string[]): string {
  return items.length ? items.map((item) => `'${item}'`).join(', ') : '(none)';
}
