/**
 * ActorPool: idle routine actors kept from finished jobs, for the next job of the same flow, and finished
 * supervisors, for the next job of any flow.
 *
 * Creating, starting and stopping an XState actor costs several times an event; handing an idle actor to the next
 * job costs a few field writes. A routine actor is kept only when its job left it `idle` with empty queues; its data
 * (which lives beside it, in its `ActorCell`) is reset and it is parked unbound, so nothing can start between jobs.
 *
 * A finished supervisor sits in its final status (completed, failed or cancelled), which answers only `reset` and
 * `start`: the next job sends one of them (`start` when it is admitted at once) and the supervisor goes back to
 * `queued` for that job.
 *
 * Used only without `inspect`: a reused actor keeps the id it was created with (`routine:<firstJobId>:<routineId>`),
 * and the inspector must show each job's own actors.
 */
import { createActor, type Actor } from 'xstate';
import { supervisorMachine, type SupervisorHost, type SupervisorStatus } from '../../../machines/index.js';
import type { RoutineInstance } from '../../flow/index.js';
import { ActorCell, type ServedRoutine } from './ActorCell.js';

/** Forwards to the job a pooled supervisor serves now. */
class ForwardingSupervisorHost implements SupervisorHost {
  target: SupervisorHost = PARKED_SUPERVISOR;
  get keepAlive(): boolean {
    return this.target.keepAlive;
  }
  get completing(): boolean {
    return this.target.completing;
  }
  quiescent(): boolean {
    return this.target.quiescent();
  }
  route(routineId: string, event: string, payload: unknown): void {
    this.target.route(routineId, event, payload);
  }
  deliver(routineId: string, slot: string, payload: unknown): void {
    this.target.deliver(routineId, slot, payload);
  }
  pauseRoutines(paused: boolean): void {
    this.target.pauseRoutines(paused);
  }
  markCompleting(): void {
    this.target.markCompleting();
  }
  recordError(error: unknown): void {
    this.target.recordError(error);
  }
  finished(status: 'completed' | 'failed' | 'cancelled'): void {
    this.target.finished(status);
  }
  status(status: SupervisorStatus): void {
    this.target.status(status);
  }
}

/** A parked supervisor sits in a final status, which answers only its next job's `reset` or `start`. */
const PARKED_SUPERVISOR: SupervisorHost = {
  keepAlive: false,
  completing: false,
  quiescent: () => false,
  route: () => undefined,
  deliver: () => undefined,
  pauseRoutines: () => undefined,
  markCompleting: () => undefined,
  recordError: () => undefined,
  finished: () => undefined,
  status: () => undefined,
};

export interface SupervisorLease {
  readonly actor: Actor<typeof supervisorMachine>;
  readonly host: ForwardingSupervisorHost;
  /** It served a job before: the next job resets it rather than starting it. */
  used: boolean;
}

export class ActorPool {
  readonly #free = new WeakMap<RoutineInstance, ActorCell[]>();
  readonly #supervisors: SupervisorLease[] = [];
  /**
   * Supervisors of jobs that just finished (the first `#finishingCount`), taken back in the next microtask. Two arrays
   * take turns (entries cleared once taken back), rather than a new array for every job finishing alone.
   */
  #finishing: (SupervisorLease | undefined)[] = [];
  #spare: (SupervisorLease | undefined)[] = [];
  #finishingCount = 0;

  /** @param perRoutine idle actors kept per routine of a flow, and finished supervisors kept */
  constructor(readonly perRoutine: number) {}

  /**
   * An idle, unbound routine actor for `inst`: a pooled one, or a new one with the id `routine:<jobId>:<routineId>`
   * (built only then: a pooled actor keeps the id it was created with).
   */
  acquire<C extends ServedRoutine>(inst: RoutineInstance, jobId: string, routineId: string): ActorCell<C> {
    // A parked cell is unbound: it serves whichever routine cell binds it next.
    return (this.#free.get(inst)?.pop() as ActorCell<C> | undefined) ?? new ActorCell<C>(inst.routine.slotNames, `routine:${jobId}:${routineId}`, undefined);
  }

  /** Takes an actor back from a finished job: kept if idle with empty queues (its data reset), else stopped. */
  release<C extends ServedRoutine>(inst: RoutineInstance, cell: ActorCell<C>): void {
    cell.unbind();
    let free = this.#free.get(inst);
    if (cell.actor.getSnapshot().value !== 'idle' || cell.queued || (free?.length ?? 0) >= this.perRoutine) {
      cell.actor.stop();
      return;
    }
    cell.reset();
    if (!free) this.#free.set(inst, (free = []));
    free.push(cell);
  }

  /**
   * A supervisor for a new job, bound to `host`: a finished one (`used`: the job must `reset` it) or a new one with
   * the id `job:<jobId>` (the job starts it).
   */
  acquireSupervisor(host: SupervisorHost, jobId: string): SupervisorLease {
    const reused = this.#supervisors.pop();
    if (reused) {
      reused.host.target = host;
      return reused;
    }
    const forwarding = new ForwardingSupervisorHost();
    forwarding.target = host;
    const actor = createActor(supervisorMachine, { id: `job:${jobId}`, input: { host: forwarding } });
    return { actor, host: forwarding, used: false };
  }

  /**
   * Takes a supervisor back once the transition that finished its job is over: in a microtask, one for all the
   * supervisors whose jobs finished meanwhile.
   */
  releaseSupervisorLater(lease: SupervisorLease): void {
    this.#finishing[this.#finishingCount++] = lease;
    if (this.#finishingCount === 1) queueMicrotask(this.#releaseFinished);
  }

  readonly #releaseFinished = (): void => {
    const leases = this.#finishing;
    const count = this.#finishingCount;
    // A supervisor released meanwhile goes into the other array, for the next batch.
    this.#finishing = this.#spare;
    this.#spare = leases;
    this.#finishingCount = 0;
    for (let i = 0; i < count; i++) {
      const lease = leases[i] as SupervisorLease;
      leases[i] = undefined;
      this.releaseSupervisor(lease);
    }
  };

  /** Takes a supervisor back once its job finished (after the transition that finished it). */
  releaseSupervisor(lease: SupervisorLease): void {
    lease.host.target = PARKED_SUPERVISOR;
    const { status, value } = lease.actor.getSnapshot();
    const final = value === 'completed' || value === 'failed' || value === 'cancelled';
    if (status !== 'active' || !final || this.#supervisors.length >= this.perRoutine) {
      lease.actor.stop();
      return;
    }
    lease.used = true;
    this.#supervisors.push(lease);
  }
}
