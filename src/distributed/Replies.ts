/**
 * Replies: a producer's side of control-message replies. One subscriber connection (opened on the first control
 * message) hears every reply of the queue's workers and hands each to the call waiting for it.
 */
import type { Connections } from './connections.js';
import type { ControlReply } from './wire.js';

export class Replies {
  readonly #waiters = new Map<string, (reply: ControlReply) => void>();
  #listening: Promise<void> | undefined;

  constructor(
    readonly connections: Connections,
    readonly channel: string,
  ) {}

  /** Resolves once subscribed: a reply published after this is heard. */
  listen(): Promise<void> {
    this.#listening ??= (async () => {
      // Closed with the runtime's other connections (`closeAll`).
      const subscriber = this.connections.open();
      subscriber.on('message', (_channel: string, text: string) => {
        let replies: ControlReply[];
        try {
          replies = JSON.parse(text) as ControlReply[];
        } catch {
          return;
        }
        for (const reply of replies) this.#waiters.get(reply.id)?.(reply);
      });
      try {
        await this.connections.bounded(subscriber.subscribe(this.channel));
      } catch (error) {
        // The next call tries again.
        this.#listening = undefined;
        this.connections.release(subscriber);
        throw error;
      }
    })();
    return this.#listening;
  }

  /** The reply to message `id` when it comes; `cancel` stops waiting. */
  expect(id: string): { readonly reply: Promise<ControlReply>; cancel(): void } {
    let resolve: (reply: ControlReply) => void = () => undefined;
    const reply = new Promise<ControlReply>((r) => {
      resolve = r;
    });
    this.#waiters.set(id, resolve);
    return {
      reply,
      cancel: () => {
        this.#waiters.delete(id);
      },
    };
  }
}
