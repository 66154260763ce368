/**
 * The host's real timers, captured when slotflow loads, so the test runtime and checkpointing keep working while a
 * test has faked the globals (`vi.useFakeTimers()`).
 */
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** One turn of the event loop: every pending microtask runs first. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => {
    realSetImmediate(resolve);
  });
}

/** A real-time timer (for `timeoutMs` options, which count real time). */
export function realTimeout(callback: () => void, ms: number): () => void {
  const handle = realSetTimeout(callback, ms);
  return () => {
    realClearTimeout(handle);
  };
}
