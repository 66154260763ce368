/**
 * Lets every pending microtask (and the job work they trigger) run: a macrotask turn, taken with the real
 * `setImmediate` captured at load time so it still works under `vi.useFakeTimers()`.
 */
const realSetImmediate = globalThis.setImmediate;

export async function flush(turns = 2): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => realSetImmediate(resolve));
}
