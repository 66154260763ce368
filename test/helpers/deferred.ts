/**
 * Promises resolved by hand, and a gate that holds routine activations until the test lets them go.
 */

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One activation held at the gate. */
export interface Entry<TInfo> {
  readonly info: TInfo;
  readonly signal: AbortSignal | undefined;
  release(): void;
  fail(error: unknown): void;
}

/**
 * Holds every `enter()` until released, and measures how many are held at once. Routines call
 * `await gate.enter(info, signal)` inside `run`.
 */
export class Gate<TInfo = string> {
  readonly #held: (Entry<TInfo> & { readonly done: Deferred })[] = [];
  /** Every entry ever made, in order. */
  readonly log: TInfo[] = [];
  #maxInside = 0;

  enter(info: TInfo, signal?: AbortSignal): Promise<void> {
    const done = deferred();
    const entry = {
      info,
      signal,
      done,
      release: () => {
        this.#remove(entry);
        done.resolve();
      },
      fail: (error: unknown) => {
        this.#remove(entry);
        done.reject(error);
      },
    };
    this.#held.push(entry);
    this.log.push(info);
    this.#maxInside = Math.max(this.#maxInside, this.#held.length);
    return done.promise;
  }

  /** Entries waiting now, oldest first. */
  get held(): readonly Entry<TInfo>[] {
    return [...this.#held];
  }

  /** How many entries are waiting now. */
  get inside(): number {
    return this.#held.length;
  }

  /** The most entries that ever waited at once. */
  get maxInside(): number {
    return this.#maxInside;
  }

  /** Releases the oldest waiting entry; throws when none waits. */
  releaseNext(): TInfo {
    const entry = this.#held[0];
    if (!entry) throw new Error('gate: nothing to release');
    entry.release();
    return entry.info;
  }

  releaseAll(): void {
    for (const entry of [...this.#held]) entry.release();
  }

  #remove(entry: unknown): void {
    const i = this.#held.indexOf(entry as never);
    if (i >= 0) this.#held.splice(i, 1);
  }
}
