/**
 * Resources: the runtime's registry of shared things (a database pool, a client, a cache), `createRuntime({
 * resources })`. Each is created lazily on the first `ctx.resource(name)`, once even when many activations ask at
 * the same moment (they share one promise), shared by every job, and disposed by `shutdown()` in the reverse order
 * of creation (a later resource may have been built on an earlier one). A factory that throws or rejects fails the
 * activations waiting on that attempt, and the next ask tries again.
 */
import { InvalidOptionError, ResourceError, RuntimeClosedError, UnknownResourceError, type ResourceAsker } from '../errors/index.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';

/** A resource: how to create it, and optionally how to dispose of it at shutdown. */
export interface ResourceDefinition<T = unknown> {
  /** Called once, on first use (again after a failure). */
  readonly create: () => T | Promise<T>;
  /** Called by `shutdown()` with what `create` returned. @default nothing */
  readonly dispose?: (value: T) => void | Promise<void>;
}

/** `createRuntime({ resources })`: name -> a definition or just a factory function. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry has its own value type (create's result is dispose's argument)
export type ResourcesOption = Readonly<Record<string, ResourceDefinition<any> | (() => unknown)>>;

/**
 * Resource names -> their types, for `ctx.resource(name)`. Empty: `resource()` resolves to `unknown` unless you
 * declare your resources here (`declare module 'slotflow' { interface ResourceTypes { db: Pool } }`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by users through declaration merging
export interface ResourceTypes {}

/** One resource in `runtime.metrics().resources`. */
export interface ResourceMetrics {
  /** `resource(name)` calls. */
  readonly accesses: number;
  /** Successful creations: at most 1 until shutdown disposes it. */
  readonly creations: number;
  /** Creations that threw or rejected. */
  readonly failures: number;
  /** Created and not disposed. */
  readonly live: boolean;
}

interface Entry {
  readonly name: string;
  readonly create: () => unknown;
  readonly dispose: ((value: never) => unknown) | undefined;
  /** The creation in progress or done; unset after a failure (the next ask tries again). */
  value: Promise<unknown> | undefined;
  created: boolean;
  accesses: number;
  creations: number;
  failures: number;
}

export class Resources {
  readonly #entries = new Map<string, Entry>();
  /** Created resources, in creation order (disposed in reverse). */
  readonly #created: Entry[] = [];
  #closed = false;
  #disposed: Promise<void> | undefined;

  constructor(option: unknown) {
    if (option === undefined) return;
    if (typeof option !== 'object' || option === null || Array.isArray(option)) throw new InvalidOptionError('resources', 'a record of name -> { create, dispose? } or a factory function', option);
    for (const [name, spec] of Object.entries(option)) {
      const where = `resources.${name}`;
      if (typeof spec === 'function') {
        this.#entries.set(name, entry(name, spec as () => unknown, undefined));
        continue;
      }
      if (typeof spec !== 'object' || spec === null) throw new InvalidOptionError(where, 'a factory function or { create, dispose? }', spec);
      assertKnownKeys(where, spec, ['create', 'dispose']);
      const { create, dispose } = spec as { create?: unknown; dispose?: unknown };
      if (typeof create !== 'function') throw new InvalidOptionError(`${where}.create`, 'a function that creates the resource', create);
      if (dispose !== undefined && typeof dispose !== 'function') throw new InvalidOptionError(`${where}.dispose`, 'a function that disposes of the resource', dispose);
      this.#entries.set(name, entry(name, create as () => unknown, dispose as ((value: never) => unknown) | undefined));
    }
  }

  get names(): string[] {
    return [...this.#entries.keys()];
  }

  /** `ctx.resource(name)`: the resource, created on first use. Rejects, never throws. */
  get(name: string, asker: ResourceAsker | undefined): Promise<unknown> {
    const found = typeof name === 'string' ? this.#entries.get(name) : undefined;
    if (!found) return Promise.reject(new UnknownResourceError(name, this.names, asker));
    found.accesses++;
    if (found.value) return found.value;
    if (this.#closed) return Promise.reject(new RuntimeClosedError(`create resource '${name}'`));
    let attempt: Promise<unknown>;
    try {
      attempt = Promise.resolve(found.create());
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- wrapped in a ResourceError just below
      attempt = Promise.reject(error);
    }
    const value = attempt.then(
      (created) => {
        found.creations++;
        found.created = true;
        this.#created.push(found);
        return created;
      },
      (error: unknown) => {
        found.failures++;
        // The next ask tries again; those that shared this attempt fail with it.
        if (found.value === value) found.value = undefined;
        throw new ResourceError(name, 'create', error, asker);
      },
    );
    found.value = value;
    return value;
  }

  /** Disposes of every created resource, newest first; rejects with the first failure once all were tried. Idempotent. */
  dispose(): Promise<void> {
    this.#closed = true;
    return (this.#disposed ??= this.#disposeAll());
  }

  async #disposeAll(): Promise<void> {
    // A creation still in flight (its activation was cut short) is waited for, then disposed like the others.
    await Promise.allSettled([...this.#entries.values()].flatMap((e) => (e.value ? [e.value] : [])));
    const failures: ResourceError[] = [];
    for (const found of this.#created.splice(0).reverse()) {
      const value = await (found.value as Promise<unknown>);
      found.created = false;
      found.value = undefined;
      if (!found.dispose) continue;
      try {
        await found.dispose(value as never);
      } catch (error) {
        failures.push(new ResourceError(found.name, 'dispose', error));
      }
    }
    if (failures.length === 1) throw failures[0] as ResourceError;
    if (failures.length > 1) throw new ResourceError(failures.map((f) => f.resource).join("', '"), 'dispose', new AggregateError(failures, failures.map((f) => f.message).join('; ')));
  }

  /** Per resource: accesses, creations, failures, and whether it is live. */
  metrics(reset: boolean): Record<string, ResourceMetrics> {
    const out: Record<string, ResourceMetrics> = {};
    for (const found of this.#entries.values()) {
      out[found.name] = { accesses: found.accesses, creations: found.creations, failures: found.failures, live: found.created };
      if (reset) found.accesses = found.creations = found.failures = 0;
    }
    return out;
  }
}

function entry(name: string, create: () => unknown, dispose: ((value: never) => unknown) | undefined): Entry {
  return { name, create, dispose, value: undefined, created: false, accesses: 0, creations: 0, failures: 0 };
}
