/**
 * SupervisorBridge: a job's supervisor actor, and the host its machine calls. It keeps the job's data the machine's
 * guards read (a pending `complete()`, the error a `fail` or `cancel` ends the job with) and passes every step the
 * machine takes to the job (`SupervisedJob`). The actor comes from the runtime's pool (a finished supervisor, reset
 * for this job) or is created for the job (always under `inspect`).
 */
import { createActor, type Actor } from 'xstate';
import { supervisorMachine, type SupervisorEvent, type SupervisorHost, type SupervisorStatus } from '../../../machines/index.js';
import type { Payload } from '../../routine/index.js';
import type { Inspect } from './ActorCell.js';
import type { ActorPool, SupervisorLease } from './ActorPool.js';

/** What the supervisor's actions do to its job. */
export interface SupervisedJob {
  readonly keepAlive: boolean;
  /** No routine busy and no timer pending. */
  quiescent(): boolean;
  route(routineId: string, event: string, payload: Payload): Error | undefined;
  deliver(routineId: string, slot: string, payload: unknown): Error | undefined;
  pauseRoutines(paused: boolean): void;
  enteredStatus(status: SupervisorStatus): void;
  /** The job reached a final status (inside the supervisor's entry action). */
  ended(status: 'completed' | 'failed' | 'cancelled', error: Error | undefined): void;
}

type RoutingEvent = Extract<SupervisorEvent, { type: 'post' | 'routine.emitted' }>;

export class SupervisorBridge implements SupervisorHost {
  /** `complete()` was called (keepAlive): complete when next quiescent. */
  completing = false;
  readonly #actor: Actor<typeof supervisorMachine>;
  readonly #lease: SupervisorLease | undefined;
  #endError: Error | undefined;
  /** What the `route` / `deliver` action returned: `actor.send` cannot hand a result back (see `sendRouting`). */
  #routed: Error | undefined;
  /** A reused supervisor not yet taken back to `queued` for this job (see `open`). */
  #parked = false;

  /** A new actor's id is `job:<jobId>` (built only for a new one: a pooled one keeps its first id). */
  constructor(
    private readonly job: SupervisedJob,
    jobId: string,
    private readonly pool: ActorPool | undefined,
    inspect: Inspect | undefined,
  ) {
    this.#lease = pool?.acquireSupervisor(this, jobId);
    this.#actor = this.#lease?.actor ?? createActor(supervisorMachine, { id: `job:${jobId}`, input: { host: this }, ...(inspect ? { inspect } : {}) });
  }

  // --- SupervisorHost: what the machine's guards and actions call -------------------------------------------

  get keepAlive(): boolean {
    return this.job.keepAlive;
  }
  quiescent(): boolean {
    return this.job.quiescent();
  }
  route(routineId: string, event: string, payload: unknown): void {
    this.#routed ??= this.job.route(routineId, event, payload as Payload);
  }
  deliver(routineId: string, slot: string, payload: unknown): void {
    this.#routed ??= this.job.deliver(routineId, slot, payload);
  }
  pauseRoutines(paused: boolean): void {
    this.job.pauseRoutines(paused);
  }
  markCompleting(): void {
    this.completing = true;
  }
  recordError(error: unknown): void {
    this.#endError = error as Error;
  }
  finished(status: 'completed' | 'failed' | 'cancelled'): void {
    this.job.ended(status, this.#endError);
  }
  status(status: SupervisorStatus): void {
    this.job.enteredStatus(status);
  }

  // --- the job's side -----------------------------------------------------------------------------------------

  /**
   * Starts the supervisor (`queued`). A reused one still sits in its last job's final status: it goes back to
   * `queued` with this job's first event (`reset`, then the event), or straight on with `start` (its final statuses
   * take `start` as reset and start in one step), saving a macrostep per job admitted at once. `unpark` resets it
   * without waiting for an event (a job that waits for its `maxJobs` place).
   */
  open(): void {
    if (this.#lease?.used) this.#parked = true;
    else this.#actor.start();
  }

  /** A reused supervisor still in its last job's final status goes back to `queued` now. */
  unpark(): void {
    if (!this.#parked) return;
    this.#parked = false;
    this.#actor.send({ type: 'reset' });
  }

  send(event: SupervisorEvent): void {
    if (this.#parked) {
      if (event.type === 'start') this.#parked = false;
      else this.unpark();
    }
    this.#actor.send(event);
  }

  /** Sends a `post` or `routine.emitted` and returns why its delivery failed (what the action returned). */
  sendRouting(event: RoutingEvent): Error | undefined {
    this.unpark();
    this.#routed = undefined;
    this.#actor.send(event);
    const failure = this.#routed;
    this.#routed = undefined;
    return failure;
  }

  /** A job that never ran: stopped at once. */
  stop(): void {
    this.#actor.stop();
  }

  /** The job finished: back to the pool, or stopped, once the transition that finished it is over. */
  release(): void {
    const { pool } = this;
    const lease = this.#lease;
    if (lease && pool) {
      pool.releaseSupervisorLater(lease);
      return;
    }
    const actor = this.#actor;
    queueMicrotask(() => {
      actor.stop();
    });
  }
}
