/**
 * EventHub: the server's one subscription to `runtime.events$`, shared by every open event stream, and held only
 * while at least one is open (a runtime nobody watches builds no events).
 */
import type { Subscription } from 'rxjs';
import type { JobEvent, Runtime } from 'slotflow';
import { SseClient, type SseFilter } from './SseClient.js';

export class EventHub {
  readonly #clients = new Set<SseClient>();
  #subscription: Subscription | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly heartbeatMs: number,
  ) {}

  get size(): number {
    return this.#clients.size;
  }

  open(filter: SseFilter): SseClient {
    const client = new SseClient(filter, this.heartbeatMs, (closed) => {
      this.#clients.delete(closed);
      if (this.#clients.size === 0) {
        this.#subscription?.unsubscribe();
        this.#subscription = undefined;
      }
    });
    this.#clients.add(client);
    this.#subscription ??= this.runtime.events$.subscribe((event: JobEvent) => {
      for (const c of this.#clients) if (c.accepts(event)) c.push(event);
    });
    return client;
  }

  /** Ends every stream (what is waiting is written first). */
  closeAll(): void {
    for (const client of [...this.#clients]) client.end();
  }
}
