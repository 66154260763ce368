/**
 * dict: a record keyed by user-given names (slots, events, connections, routines). It has no prototype, so a name
 * such as `constructor`, `toString` or `__proto__` is an ordinary key: reading a missing one gives `undefined`,
 * writing one never changes the record's prototype.
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
