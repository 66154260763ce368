/**
 * DistributedJob: the producer-side handle of one job, usable from any process: it reads the job's state and events
 * from Redis and sends control messages to whichever worker holds it.
 */
import { Observable } from 'rxjs';
import { v7 as uuidv7 } from 'uuid';
import { InvalidOptionError, JobFinishedError, UnknownSlotError, WaitTimeoutError, isFinalStatus, parseSnapshot, type FlowDefinition, type JobStatus, type Payload } from 'slotflow';
import type { Connections } from './connections.js';
import { errorFromData } from './errorFromData.js';
import { JobNotFoundError } from './JobNotFoundError.js';
import type { Keys } from './keys.js';
import type { Replies } from './Replies.js';
import type { ProducerRedis } from './scripts.js';
import { isFinalEvent, stateOfSnapshot, type ControlMessage, type ControlReply, type RemoteJobEvent, type RemoteJobState } from './wire.js';

/** A control message before it is given its id. */
type Message = ControlMessage extends infer M ? (M extends unknown ? Omit<M, 'id'> : never) : never;

/** How often a control call that waits for its reply checks that the worker still holds the job. */
const RECHECK_MS = 1_000;

/** What a handle shares with its runtime. */
export interface JobContext {
  readonly redis: ProducerRedis;
  readonly keys: Keys;
  readonly connections: Connections;
  readonly replies: Replies;
  /** The flows given to `createDistributedRuntime`, by id (empty: no checks here). */
  readonly flows: ReadonlyMap<string, FlowDefinition>;
  readonly assertOpen: (action: string) => void;
}

export class DistributedJob {
  /** The job's events from its start, then live, in order; completes after its final event. */
  readonly events$: Observable<RemoteJobEvent>;

  /** @internal */
  constructor(
    readonly id: string,
    readonly flowId: string,
    readonly context: JobContext,
  ) {
    this.events$ = new Observable<RemoteJobEvent>((subscriber) => {
      const stop = readEvents(context, id, (event) => {
        subscriber.next(event);
      });
      stop.done.then(
        () => {
          subscriber.complete();
        },
        (error: unknown) => {
          subscriber.error(error);
        },
      );
      return () => {
        stop.cancel();
      };
    });
  }

  /**
   * The job's latest checkpointed state (its final state once it finished), or `undefined` before its first
   * checkpoint. An activation running at that checkpoint counts as not started yet.
   */
  async getState(): Promise<RemoteJobState | undefined> {
    const [state, snapshot] = await this.context.connections.bounded(this.context.redis.hmget(this.context.keys.job(this.id), 'state', 'snapshot'));
    if (state) return JSON.parse(state) as RemoteJobState;
    return snapshot ? stateOfSnapshot(parseSnapshot(JSON.parse(snapshot))) : undefined;
  }

  /** The job's status as stored (`queued` until a worker first checkpoints it). */
  async status(): Promise<JobStatus> {
    const status = await this.context.connections.bounded(this.context.redis.hget(this.context.keys.job(this.id), 'status'));
    return (status ?? 'queued') as JobStatus;
  }

  /**
   * Resolves with the final state once the job's final event is in its stream; rejects with `WaitTimeoutError` when
   * `timeoutMs` passes first (the job keeps running).
   */
  async wait(options: { readonly timeoutMs?: number } = {}): Promise<RemoteJobState> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0))) throw new InvalidOptionError('wait({ timeoutMs })', 'a positive number of milliseconds', timeoutMs);
    const reader = readEvents(this.context, this.id, () => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      await (timeoutMs === undefined
        ? reader.done
        : Promise.race([
            reader.done,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                reject(new WaitTimeoutError(this.id, timeoutMs));
              }, timeoutMs);
            }),
          ]));
    } finally {
      clearTimeout(timer);
      reader.cancel();
    }
    return (await this.getState()) as RemoteJobState;
  }

  /**
   * Delivers `payload` into `routineId`'s `slot`, via the worker that holds the job (or the next one to take it).
   * While a worker holds the job, resolves once that worker applied it and rejects with the error it raised there
   * (`UnknownSlotError`, `PayloadError`, `JobFinishedError`, ...); while none does, resolves once it is stored.
   */
  async post(routineId: string, slot: string, payload: object): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new InvalidOptionError('post(payload)', 'a plain object', payload);
    const flow = this.context.flows.get(this.flowId);
    if (flow) {
      const inst = flow.routines.get(routineId);
      if (!inst) throw new UnknownSlotError(flow.id, routineId, slot, [...flow.routines.keys()], 'routine');
      if (!inst.routine.slotNames.includes(slot)) throw new UnknownSlotError(flow.id, routineId, slot, inst.routine.slotNames);
    }
    await this.#send({ op: 'post', routineId, slot, payload: payload as Payload });
  }

  /** Cancels the job (running activations are aborted); a finished job stays as it is. Settles like `post`. */
  cancel(reason?: string): Promise<void> {
    return this.#send(reason === undefined ? { op: 'cancel' } : { op: 'cancel', reason });
  }

  /** Pauses the job; rejects with `JobFinishedError` when it has finished. Settles like `post`. */
  pause(): Promise<void> {
    return this.#send({ op: 'pause' });
  }

  /** Resumes a paused job; rejects with `JobFinishedError` when it has finished. Settles like `post`. */
  resume(): Promise<void> {
    return this.#send({ op: 'resume' });
  }

  /** A keepAlive job: let queued work drain, then complete. Settles like `post`. */
  complete(): Promise<void> {
    return this.#send({ op: 'complete' });
  }

  /**
   * Appends the message to the job's control list (durable, in order) and tells the workers, in one step. When a
   * worker holds the job, waits for its reply; every second without one it checks that the worker still holds the
   * job (else the next one applies the message: the call resolves) and that the job has not finished meanwhile.
   */
  async #send(body: Message): Promise<void> {
    const { redis, keys, connections, replies } = this.context;
    this.context.assertOpen(`send '${body.op}' to a job`);
    const message = { id: uuidv7(), ...body } as ControlMessage;
    const finished = (status: string): void => {
      if (body.op !== 'cancel') throw new JobFinishedError(this.id, status);
    };
    const settle = (reply: ControlReply): void => {
      if (reply.error) throw errorFromData(reply.error);
    };
    await replies.listen();
    const waiting = replies.expect(message.id);
    try {
      const [status, held] = await connections.bounded(redis.slotflowSend(keys.job(this.id), keys.control(this.id), keys.lock(this.id), JSON.stringify(message), keys.channel, this.id));
      if (status === '') throw new JobNotFoundError(this.id, keys.queue);
      if (isFinalStatus(status as JobStatus)) {
        finished(status);
        return;
      }
      if (held !== 1) return;
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const reply = await Promise.race([
          waiting.reply,
          new Promise<undefined>((resolve) => {
            timer = setTimeout(() => {
              resolve(undefined);
            }, RECHECK_MS);
          }),
        ]).finally(() => {
          clearTimeout(timer);
        });
        if (reply) {
          settle(reply);
          return;
        }
        this.context.assertOpen(`wait for the reply to '${body.op}'`);
        const [stored, now, stillHeld] = ((await connections.bounded(redis.multi().hget(keys.replies(this.id), message.id).hget(keys.job(this.id), 'status').exists(keys.lock(this.id)).exec())) ?? []).map((r) => r[1]);
        if (typeof stored === 'string') {
          settle(JSON.parse(stored) as ControlReply);
          return;
        }
        if (typeof now === 'string' && isFinalStatus(now as JobStatus)) {
          finished(now);
          return;
        }
        if (stillHeld !== 1) return;
      }
    } finally {
      waiting.cancel();
    }
  }
}

/**
 * Reads a job's event stream from the start on its own connection (XREAD blocks), until the final event. `done`
 * resolves after the final event; `cancel` stops reading and closes the connection.
 */
function readEvents(context: JobContext, id: string, onEvent: (event: RemoteJobEvent) => void): { done: Promise<void>; cancel: () => void } {
  const reader = context.connections.open();
  let cancelled = false;
  const done = (async () => {
    let from = '0';
    try {
      for (;;) {
        const reply = (await reader.xread('COUNT', 500, 'BLOCK', 1_000, 'STREAMS', context.keys.events(id), from));
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by cancel() while xread waits
        if (cancelled) return;
        // A quiet second: a job whose records expired (or never existed) would be waited for forever.
        if (!reply && (await reader.exists(context.keys.job(id))) === 0) throw new JobNotFoundError(id, context.keys.queue);
        for (const [, entries] of reply ?? []) {
          for (const [entryId, fields] of entries) {
            from = entryId;
            // An entry holds one write's events (`b`, a JSON array), or one event (`e`, as older workers wrote).
            const events = fields[0] === 'b' ? (JSON.parse(fields[1] ?? '[]') as RemoteJobEvent[]) : [JSON.parse(fields[1] ?? '{}') as RemoteJobEvent];
            for (const event of events) {
              onEvent(event);
              if (isFinalEvent(event)) return;
            }
          }
        }
      }
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by cancel() while xread waits
      if (!cancelled) throw error;
    } finally {
      context.connections.release(reader);
    }
  })();
  return {
    done,
    cancel: () => {
      if (cancelled) return;
      cancelled = true;
      context.connections.release(reader);
    },
  };
}
