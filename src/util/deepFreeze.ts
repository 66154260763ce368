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
  const stack: object[] = [value];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    // Own enumerable string keys: what a plain object holds as data (Object.values also walks an array's elements).
    for (const child of Object.values(next)) {
      if (isUnfrozenPlain(child)) {
        Object.freeze(child);
        stack.push(child);
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
