/**
 * ControlRelay: a worker's side of control messages (pause, post, cancel...). Producers append them to the job's
 * list in Redis and publish its id; the relay reads the list from the job's cursor on and applies the messages in
 * order, one read at a time per job, so none is applied twice or out of order.
 */
import type { Job } from 'slotflow';
import { applyControl } from './applyControl.js';
import type { HeldJob } from './HeldJob.js';
import type { Keys } from './keys.js';
import type { FencedRedis } from './scripts.js';
import type { ControlReply, WireEvent } from './wire.js';

/** What the relay needs of its worker. */
export interface ControlRelayContext {
  readonly redis: FencedRedis;
  readonly keys: Keys;
  readonly onError: (error: Error) => void;
  /** Where a message's warning goes: into the job's events. */
  readonly buffer: (held: HeldJob, event: WireEvent) => void;
}

export class ControlRelay {
  constructor(private readonly context: ControlRelayContext) {}

  /** A message was published for `held`: read it now, or, before the job exists, once it does. */
  poke(held: HeldJob): void {
    if (held.job) void this.drain(held);
    else held.poked = true;
  }

  /** Applies messages in order; the replies go back to the callers (one write), failures into the job's events too. */
  apply(held: HeldJob, job: Job, messages: readonly string[]): void {
    const { redis, keys, onError, buffer } = this.context;
    const replies: ControlReply[] = [];
    for (const text of messages) {
      const { reply, warning } = applyControl(job, text);
      // With the message applied, in the same tick: the next checkpoint counts it as applied.
      held.cursor++;
      if (reply) replies.push(reply);
      if (warning !== undefined) buffer(held, warning);
    }
    if (replies.length === 0) return;
    const multi = redis.multi();
    for (const reply of replies) multi.hset(keys.replies(held.id), reply.id, JSON.stringify(reply));
    multi.publish(keys.replyChannel, JSON.stringify(replies)).exec().catch((error: unknown) => {
      onError(error as Error);
    });
  }

  /** Applies the job's control messages from its cursor on, in order (one drain at a time per job). */
  async drain(held: HeldJob): Promise<void> {
    if (held.draining) {
      held.again = true;
      return;
    }
    held.draining = true;
    try {
      do {
        held.again = false;
        const messages = await this.context.redis.lrange(this.context.keys.control(held.id), held.cursor, -1);
        const job = held.job;
        if (!job || held.lost || held.suspended) return;
        this.apply(held, job, messages);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by a drain() call while lrange waits
      } while (held.again);
    } catch (error) {
      this.context.onError(error as Error);
    } finally {
      held.draining = false;
    }
  }
}
