/**
 * A Server-Sent Events reader over fetch's body stream (what EventSource does, minus reconnection), for tests.
 */
export interface SseMessage {
  readonly event: string;
  readonly data: unknown;
}

export class SseReader {
  readonly messages: SseMessage[] = [];
  /** Comment lines (`: heartbeat`). */
  readonly comments: string[] = [];
  ended = false;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  #waiters: (() => void)[] = [];
  readonly done: Promise<void>;

  constructor(readonly response: Response) {
    if (!response.body) throw new Error('no body');
    this.#reader = response.body.getReader();
    this.done = this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#buffer += this.#decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
          const block = this.#buffer.slice(0, end);
          this.#buffer = this.#buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) this.messages.push({ event, data: JSON.parse(data) });
        }
        this.#wake();
      }
    } catch {
      // The connection was cut: treated as the end.
    }
    this.ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `check()` holds (checked after every chunk); rejects if the stream ends first. */
  async until(check: () => boolean, what: string): Promise<void> {
    while (!check()) {
      if (this.ended) throw new Error(`the stream ended before ${what}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  types(): string[] {
    return this.messages.map((m) => m.event);
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }
}
