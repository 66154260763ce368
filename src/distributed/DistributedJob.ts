/**
 * DistributedJob: the producer-side handle of one job, usable from any process: it reads the job's state and events
 * from Redis and sends control messages to whichever worker holds it.
 */
import { Observable } from 'rxjs';
import { InvalidOptionError, JobFinishedError, UnknownSlotError, WaitTimeoutError, isFinalStatus, type FlowDefinition, type JobStatus, type Payload } from 'slotflow';
import type { Redis } from 'ioredis';
import type { Connections } from './connections.js';
import type { Keys } from './keys.js';
import { isFinalEvent, type ControlMessage, type RemoteJobEvent, type RemoteJobState } from './wire.js';

/** What a handle shares with its runtime. */
export interface JobContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly connections: Connections;
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

  /** The job's latest checkpointed state, or `undefined` before its first checkpoint. */
  async getState(): Promise<RemoteJobState | undefined> {
    const text = await this.context.connections.bounded(this.context.redis.hget(this.context.keys.job(this.id), 'state'));
    return text === null ? undefined : (JSON.parse(text) as RemoteJobState);
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

  /** Delivers `payload` into `routineId`'s `slot`, via the worker that holds the job (or the next one to take it). */
  async post(routineId: string, slot: string, payload: object): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new InvalidOptionError('post(payload)', 'a plain object', payload);
    const flow = this.context.flows.get(this.flowId);
    if (flow) {
      const inst = flow.routines.get(routineId);
      if (!inst) throw new UnknownSlotError(flow.id, routineId, slot, [...flow.routines.keys()], 'routine');
      if (!inst.routine.slotNames.includes(slot)) throw new UnknownSlotError(flow.id, routineId, slot, inst.routine.slotNames);
    }
    await this.#send({ op: 'post', routineId, slot, payload: payload as Payload }, true);
  }

  /** Cancels the job (running activations are aborted). */
  cancel(reason?: string): Promise<void> {
    return this.#send(reason === undefined ? { op: 'cancel' } : { op: 'cancel', reason }, false);
  }

  pause(): Promise<void> {
    return this.#send({ op: 'pause' }, false);
  }

  resume(): Promise<void> {
    return this.#send({ op: 'resume' }, false);
  }

  /** A keepAlive job: let queued work drain, then complete. */
  complete(): Promise<void> {
    return this.#send({ op: 'complete' }, true);
  }

  /** Appends the message to the job's control list (durable, in order) and tells the workers. */
  async #send(message: ControlMessage, rejectFinished: boolean): Promise<void> {
    const { redis, keys, connections } = this.context;
    this.context.assertOpen(`send '${message.op}' to a job`);
    const status = await this.status();
    if (isFinalStatus(status)) {
      if (rejectFinished) throw new JobFinishedError(this.id, status);
      return;
    }
    await connections.bounded(redis.multi().rpush(keys.control(this.id), JSON.stringify(message)).publish(keys.channel, this.id).exec());
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
        for (const [, entries] of reply ?? []) {
          for (const [entryId, fields] of entries) {
            from = entryId;
            const event = JSON.parse(fields[1] ?? '{}') as RemoteJobEvent;
            onEvent(event);
            if (isFinalEvent(event)) return;
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
