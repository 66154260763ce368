/**
 * EventHub: where the event streams get their events. A stream of one job (`?jobId=`) subscribes to that job's
 * `job.events$`, so only the watched job builds events; streams of every job share one `runtime.events$`
 * subscription, held only while at least one is open (with none, a runtime builds no events at all).
 */
import type { Subscription } from 'rxjs';
import type { Job, JobEvent, Runtime } from 'slotflow';
import { SseClient, type SseFilter } from './SseClient.js';

export class EventHub {
  readonly #clients = new Set<SseClient>();
  /** Clients of every job (no `jobId`), served by `#all`. */
  readonly #broad = new Set<SseClient>();
  #all: Subscription | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly heartbeatMs: number,
  ) {}

  get size(): number {
    return this.#clients.size;
  }

  /** A stream of `job`'s events (the caller checked the id), or of every job's without one. */
  open(filter: SseFilter, job?: Job): SseClient {
    let own: Subscription | undefined;
    const client = new SseClient(filter, this.heartbeatMs, (closed) => {
      this.#clients.delete(closed);
      own?.unsubscribe();
      if (this.#broad.delete(closed) && this.#broad.size === 0) {
        this.#all?.unsubscribe();
        this.#all = undefined;
      }
    });
    this.#clients.add(client);
    if (job) {
      own = job.events$.subscribe((event: JobEvent) => {
        if (client.accepts(event)) client.push(event);
      });
      return client;
    }
    this.#broad.add(client);
    this.#all ??= this.runtime.events$.subscribe((event: JobEvent) => {
      for (const c of this.#broad) if (c.accepts(event)) c.push(event);
    });
    return client;
  }

  /** Ends every stream (what is waiting is written first). */
  closeAll(): void {
    for (const client of [...this.#clients]) client.end();
  }
}
