/**
 * ExecBatcher: the producer's `exec` calls made together (a `Promise.all` over many jobs) leave as one batch: one
 * Lua call records every job (refusing the ids already taken, each on its own), then one BullMQ `addBulk` queues
 * the ones recorded. Each `exec` still resolves only once its own job is durably queued, and rejects alone when its
 * id was taken; a failed round trip rejects every call of its batch (none of them may assume its job is queued).
 *
 * Batched per turn of the event loop (`process.nextTick`): a lone `exec` waits for no timer, and what one turn
 * issues costs two round trips in all, as BullMQ's own `addBulk` does, instead of two per job.
 *
 * `idle()` lets the runtime's `close()` wait for the batches already accepted: a call made before `close()` ends
 * with its job queued (or its own error), never with its connection closed under it halfway.
 */
import type { Queue } from 'bullmq';
import { InvalidOptionError } from 'slotflow';
import type { Connections } from './connections.js';
import type { Keys } from './keys.js';
import type { ProducerRedis } from './scripts.js';
import type { QueuedJob } from './wire.js';

/** At most this many jobs per Lua call / `addBulk` (a long script blocks Redis for everyone meanwhile). */
const MAX_BATCH = 500;

interface Pending {
  readonly jobId: string;
  readonly data: QueuedJob;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class ExecBatcher {
  #pending: Pending[] = [];
  /** Batches accepted and not settled yet (waiting for their turn, or sent). */
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: ProducerRedis,
    private readonly keys: Keys,
    private readonly connections: Connections,
    private readonly queue: () => Queue<QueuedJob>,
  ) {}

  /** Resolves once the job is stored in Redis and queued in BullMQ. */
  add(jobId: string, data: QueuedJob): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#pending.push({ jobId, data, resolve, reject }) === 1) {
        const flushed = new Promise<void>((done) => {
          process.nextTick(() => {
            void Promise.all(this.#flush()).then(() => {
              done();
            });
          });
        });
        this.#inFlight.add(flushed);
        void flushed.then(() => this.#inFlight.delete(flushed));
      }
    });
  }

  /** Resolves once every call accepted so far is settled (its batch sent and answered, or failed). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #flush(): Promise<void>[] {
    const all = this.#pending;
    this.#pending = [];
    const sent: Promise<void>[] = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) sent.push(this.#send(all.slice(i, i + MAX_BATCH)));
    return sent;
  }

  async #send(batch: readonly Pending[]): Promise<void> {
    const { redis, keys, connections } = this;
    let queued: Pending[] | undefined;
    try {
      const now = Date.now();
      const args: (string | number)[] = [now];
      for (const { jobId, data } of batch) args.push(jobId, data.flowId);
      const created = await connections.bounded(redis.slotflowCreateMany(2 * batch.length + 1, keys.jobs, ...batch.flatMap((p) => [keys.job(p.jobId), keys.bullJob(p.jobId)]), ...args));
      queued = [];
      for (const [i, pending] of batch.entries()) {
        if (created[i] === 1) queued.push(pending);
        else pending.reject(new InvalidOptionError('exec({ jobId })', 'an id no other job of this queue has', pending.jobId));
      }
      if (queued.length > 0) await connections.bounded(this.queue().addBulk(queued.map(({ jobId, data }) => ({ name: data.flowId, data, opts: { jobId } }))));
    } catch (error) {
      // Not known to be queued (the records may be in Redis, but none is promised): every call still waiting fails.
      for (const pending of queued ?? batch) pending.reject(error);
      return;
    }
    for (const pending of queued) pending.resolve();
  }
}
