/**
 * SseClient: one open `GET /api/events` stream. Events are written in batches, at most one write per
 * `FLUSH_MS` (10 a second), so a busy runtime costs the page ten small updates a second instead of one per event.
 *
 * High-frequency events (an activation starting or ending, an emission, progress) of the same job, type and
 * routine that arrive within one batch are coalesced: the latest is sent, with `coalesced: n` saying how many it
 * stands for, at the position of the latest. Every other event (job status changes, failures, retries,
 * breakpoints, final events) is sent as it came, in order. A client that reads slower than events come gets
 * nothing more until it has read the last batch; the batch meanwhile keeps coalescing.
 */
import type { JobEvent } from 'slotflow';
import { toJson } from './toJson.js';

/** How often a stream is written to, at most. */
export const FLUSH_MS = 100;
/** The default of `heartbeatMs`: a comment line this often keeps proxies and browsers from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/** Events a stream may hold for a client that does not read; past it the stream ends (EventSource reconnects). */
const MAX_PENDING = 50_000;

const HIGH_FREQUENCY: ReadonlySet<string> = new Set(['routine.started', 'routine.completed', 'event.emitted', 'routine.progress']);

export interface SseFilter {
  readonly jobId?: string;
  /** Event types, or prefixes ending in `.` (`job.`). */
  readonly types?: readonly string[];
}

const encoder = new TextEncoder();

/**
 * An event as JSON: the plain `JSON.stringify` first (most events are flat data, and it is several times faster),
 * `toJson` for those carrying an error or a payload it cannot write (a BigInt, a cycle).
 */
function eventJson(event: JobEvent | (JobEvent & { coalesced: number })): string {
  if (!('error' in event)) {
    try {
      return JSON.stringify(event);
    } catch {
      // A payload JSON cannot hold as it is: written the careful way below.
    }
  }
  return toJson(event);
}

export class SseClient {
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Events waiting for the next write; `undefined` holes are events replaced by a later one of the same key. */
  #pending: (JobEvent | undefined)[] = [];
  /** Coalescing key -> index in `#pending` and how many events it stands for. */
  readonly #latest = new Map<string, { index: number; count: number }>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #lastFlush = 0;
  #closed = false;

  constructor(
    readonly filter: SseFilter,
    heartbeatMs: number,
    private readonly onClose: (client: SseClient) => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          // Something at once, so the client sees the stream open (the headers go with it).
          controller.enqueue(encoder.encode(`retry: 2000\n: connected\n\n`));
        },
        pull: () => {
          // The client read what was written: a batch that waited for it can go now.
          if (this.#pending.length > 0) this.#schedule();
        },
        cancel: () => {
          this.close();
        },
      },
      { highWaterMark: 1 },
    );
    this.#heartbeat = setInterval(() => {
      this.#write(': heartbeat\n\n');
    }, heartbeatMs);
    this.#heartbeat.unref();
  }

  accepts(event: JobEvent): boolean {
    const { jobId, types } = this.filter;
    if (jobId !== undefined && event.jobId !== jobId) return false;
    if (types === undefined) return true;
    for (const type of types) if (type.endsWith('.') ? event.type.startsWith(type) : event.type === type) return true;
    return false;
  }

  push(event: JobEvent): void {
    if (this.#closed) return;
    if (HIGH_FREQUENCY.has(event.type)) {
      const key = `${event.jobId}\u0000${event.type}\u0000${'routineId' in event ? event.routineId : ''}`;
      const previous = this.#latest.get(key);
      if (previous) {
        this.#pending[previous.index] = undefined;
        previous.count++;
        previous.index = this.#pending.length;
      } else this.#latest.set(key, { index: this.#pending.length, count: 1 });
    }
    this.#pending.push(event);
    if (this.#pending.length > MAX_PENDING) {
      this.close();
      return;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushTimer !== undefined || this.#closed) return;
    const wait = Math.max(0, this.#lastFlush + FLUSH_MS - Date.now());
    this.#flushTimer = setTimeout(this.#flush, wait);
  }

  readonly #flush = (): void => {
    this.#flushTimer = undefined;
    if (this.#closed) return;
    // The client has not read the last batch: keep coalescing until it does (`pull` schedules again).
    const desired = this.#controller.desiredSize;
    if (desired !== null && desired <= 0) return;
    this.#lastFlush = Date.now();
    const counts = new Map<number, number>();
    for (const { index, count } of this.#latest.values()) if (count > 1) counts.set(index, count);
    let text = '';
    this.#pending.forEach((event, index) => {
      if (!event) return;
      const coalesced = counts.get(index);
      text += `event: ${event.type}\ndata: ${eventJson(coalesced === undefined ? event : { ...event, coalesced })}\n\n`;
    });
    this.#pending = [];
    this.#latest.clear();
    this.#write(text);
  };

  #write(text: string): void {
    if (this.#closed || text === '') return;
    try {
      this.#controller.enqueue(encoder.encode(text));
    } catch {
      this.close();
    }
  }

  /** Writes what is waiting (unless the client is behind), then ends the stream. */
  end(): void {
    if (this.#closed) return;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#pending.length > 0) this.#flush();
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    clearInterval(this.#heartbeat);
    try {
      this.#controller.close();
    } catch {
      // Already closed or errored by the reader going away.
    }
    this.onClose(this);
  }
}
