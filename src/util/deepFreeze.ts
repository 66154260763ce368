/**
 * deepFreeze: freezes a value's plain objects and arrays, all the way down, in place, and returns the value.
 *
 * - Only plain data is frozen: arrays and objects whose prototype is `Object.prototype` or `null`. A Date, Map, Set,
 *   typed array or class instance is left as it is: `Object.freeze` would not stop `map.set()` or `date.setTime()`
 *   (a false promise), a typed array with elements cannot be frozen at all, and a class instance in config or a
 *   payload (a client, a connection) must keep working. What such an object holds is not walked either.
 * - An object that is already frozen is taken as deeply frozen and not walked again, as immer does: a payload routed
 *   on to several slots is walked once, at its entry into the job. (An object someone froze only at the top keeps
 *   mutable children: freeze deeply or not at all.)
 * - Iterative, with the object frozen before its children are visited: a cycle or a 100,000-deep value neither
 *   loops nor overflows the stack.
 */
export function deepFreeze<T>(value: T): T {
  if (!isUnfrozenPlain(value)) return value;
  Object.freeze(value);
  // The stack is made only for a value that holds objects: a flat payload (the common case) allocates nothing.
  let stack: object[] | undefined;
  for (let next: object | undefined = value; next !== undefined; next = stack?.pop()) {
    if (Array.isArray(next)) {
      for (const child of next as unknown[]) if (isUnfrozenPlain(child)) (stack ??= []).push(Object.freeze(child));
    } else {
      // for-in, not Object.values: no array per object (measured 3x faster on a small payload). A plain object's
      // prototype (Object.prototype or null) adds no enumerable keys.
      for (const key in next) {
        const child = (next as Record<string, unknown>)[key];
        if (isUnfrozenPlain(child)) (stack ??= []).push(Object.freeze(child));
      }
    }
  }
  return value;
}

function isUnfrozenPlain(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
