/**
 * Connections: the Redis connections one worker or producer opens, and closes again.
 *
 * A user gives a URL, ioredis options or an IORedis instance. We never close a given instance: every connection we
 * need is a new one (from the URL or options, or `instance.duplicate()`), tracked here, and closed by `closeAll`.
 * Every connection retries forever on its own (ioredis), so reachability is decided by `ping` with a deadline,
 * which turns "Redis is not there" into a `ConnectionError` instead of a hang.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ConnectionError, InvalidOptionError } from 'slotflow';

/** What `connection` may be: a `redis://` URL, ioredis options, or an IORedis instance (never closed by slotflow). */
export type RedisConnection = string | RedisOptions | Redis;

export class Connections {
  readonly #source: RedisConnection;
  readonly #timeoutMs: number;
  readonly #opened = new Set<Redis>();
  #closed = false;
  /** A printable address, without credentials. */
  readonly target: string;

  constructor(source: RedisConnection, timeoutMs: number) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
    if (!(typeof source === 'string' || source instanceof Redis || (typeof source === 'object' && source !== null && !Array.isArray(source))))
      throw new InvalidOptionError('connection', "a redis:// URL, ioredis options or an IORedis instance", source);
    this.#source = source;
    this.#timeoutMs = timeoutMs;
    this.target = describe(source);
  }

  /**
   * A new connection owned by us (BullMQ needs `maxRetriesPerRequest: null` on the ones it blocks on). `pipelined`:
   * commands issued in the same turn of the event loop leave in one socket write (ioredis auto-pipelining), which
   * profiles showed to matter: on a busy machine each write costs tens of µs. Never for a connection that blocks.
   */
  open(options: { readonly pipelined?: boolean } = {}): Redis {
    if (this.#closed) throw new ConnectionError(this.target, this.#timeoutMs, new Error('the connections are closed'));
    const own: RedisOptions = { maxRetriesPerRequest: null, connectTimeout: this.#timeoutMs, retryStrategy: (times) => Math.min(times * 100, 1_000), ...(options.pipelined ? { enableAutoPipelining: true } : {}) };
    const source = this.#source;
    // (ioredis's own option types do not survive exactOptionalPropertyTypes, hence the casts.)
    const redis = source instanceof Redis ? source.duplicate(own as never) : typeof source === 'string' ? new Redis(source, own as never) : new Redis({ ...source, ...own } as never);
    // Without a listener ioredis prints every failed reconnect; the caller learns of it through `ping`.
    redis.on('error', () => undefined);
    this.#opened.add(redis);
    return redis;
  }

  /** Resolves once `redis` answers PING; rejects with `ConnectionError` after `timeoutMs`. */
  async ping(redis: Redis): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let lastError: unknown;
    const onError = (error: unknown) => {
      lastError = error;
    };
    redis.on('error', onError);
    try {
      await Promise.race([
        redis.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new ConnectionError(this.target, this.#timeoutMs, lastError));
          }, this.#timeoutMs);
        }),
      ]);
    } catch (error) {
      throw error instanceof ConnectionError ? error : new ConnectionError(this.target, this.#timeoutMs, error);
    } finally {
      clearTimeout(timer);
      redis.off('error', onError);
    }
  }

  /** Bounds any Redis round trip by `timeoutMs`, so a lost server surfaces as `ConnectionError`. */
  async bounded<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new ConnectionError(this.target, this.#timeoutMs));
          }, this.#timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets a connection closed elsewhere (a finished reader). */
  release(redis: Redis): void {
    this.#opened.delete(redis);
    redis.disconnect();
  }

  /** Closes every connection opened here: QUIT when connected (replies flushed), else a plain disconnect. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const all = [...this.#opened];
    this.#opened.clear();
    await Promise.all(
      all.map(async (redis) => {
        if (redis.status !== 'ready') {
          redis.disconnect();
          return;
        }
        try {
          await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
        } catch {
          // Already gone.
        }
        redis.disconnect();
      }),
    );
  }
}

function describe(source: RedisConnection): string {
  if (typeof source === 'string') {
    try {
      const url = new URL(source);
      return `Redis at ${url.protocol}//${url.host}`;
    } catch {
      return 'Redis';
    }
  }
  const options = source instanceof Redis ? source.options : source;
  if (options.path) return `Redis at ${options.path}`;
  return `Redis at ${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`;
}
