/**
 * HeldJob: what a worker knows of one job it holds, shared by the parts of the worker (processor, event writer,
 * control relay) so that each reads the same flags: a lost or suspended job is written to by none of them.
 */
import type { Job } from 'slotflow';
import type { WireEvent } from './wire.js';

/** One job this worker holds. */
export interface HeldJob {
  readonly id: string;
  readonly token: string;
  cursor: number;
  job: Job | undefined;
  saved: boolean;
  /** Another worker holds the job now: nothing more is written. */
  lost: boolean;
  /** Suspended by `close()`: handed back, not finished. */
  suspended: boolean;
  draining: boolean;
  again: boolean;
  /** A control message was published before the job was created: read the list again once it is. */
  poked: boolean;
  /** Events (JSON-ready) not written yet: the next save carries them, or an append on the next turn. */
  buffer: WireEvent[];
  final: WireEvent | undefined;
  appended: Promise<unknown>;
  takeEvents(): WireEvent[];
}

/** A job just taken from the queue, under BullMQ's lock `token`: nothing read, applied or written yet. */
export function holdJob(id: string, token: string): HeldJob {
  const held: HeldJob = {
    id,
    token,
    cursor: 0,
    job: undefined,
    lost: false,
    suspended: false,
    draining: false,
    again: false,
    poked: false,
    saved: false,
    buffer: [],
    final: undefined,
    appended: Promise.resolve(),
    takeEvents: () => held.buffer.splice(0),
  };
  return held;
}
