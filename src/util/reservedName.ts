/**
 * Reserved names: a user-given name that must work as a plain object key (a slot, an event, an event field, a
 * routine id, a connection name) may not be `__proto__`. Assigning it to an ordinary object changes the object's
 * prototype instead of adding a key, and JSON, spreads and `Object.entries` all treat it specially, so such a name
 * can never round-trip through a payload, a snapshot or a manifest. Other `Object.prototype` names (`constructor`,
 * `toString`, ...) are ordinary keys: slotflow keeps user names in Maps and null-prototype records, so they work.
 */

/** The names no slot, event, event field, routine or connection may have. */
export const RESERVED_NAMES: readonly string[] = Object.freeze(['__proto__']);

/** True when `name` cannot be used as a plain key. */
export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.includes(name);
}

/** The problem with using `name` as a `what` name, or `undefined` when it is fine. */
export function reservedNameProblem(what: string, name: string): string | undefined {
  return isReservedName(name) ? `${what} '${name}' is a reserved name (it cannot be a plain object key); rename it` : undefined;
}
