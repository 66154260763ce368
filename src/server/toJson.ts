/**
 * toJson: JSON text for what the server sends (job states, events): errors as plain data instead of `{}`, a BigInt
 * as its decimal string, and a reference back to an enclosing value as `'[Circular]'`. A routine's payload can hold
 * anything, and one odd value must not cost the whole response.
 */

/** An error as data: `name`, `message`, its own fields (`code`, `routineId`, ...), and its `cause`. */
export function errorData(error: Error): Record<string, unknown> {
  const data: Record<string, unknown> = { name: error.name, message: error.message };
  for (const [key, value] of Object.entries(error)) if (key !== 'stack') data[key] = value;
  if (error.cause !== undefined) data.cause = error.cause;
  return data;
}

export function toJson(value: unknown): string {
  const seen: unknown[] = [];
  const written: unknown[] = [];
  return JSON.stringify(value, function replacer(this: unknown, _key: string, item: unknown): unknown {
    if (typeof item === 'bigint') return item.toString();
    if (typeof item === 'function' || typeof item === 'symbol') return undefined;
    if (typeof item !== 'object' || item === null) return item;
    const depth = written.lastIndexOf(this) + 1;
    seen.length = depth;
    written.length = depth;
    if (seen.includes(item)) return '[Circular]';
    const data: unknown = item instanceof Error ? errorData(item) : item instanceof Map ? Object.fromEntries(item as Map<unknown, unknown>) : item instanceof Set ? [...(item as Set<unknown>)] : item;
    seen.push(item);
    written.push(data);
    return data;
  });
}
