/**
 * ActorPool: idle routine actors kept from finished jobs, for the next job of the same flow, and finished
 * supervisors, for the next job of any flow.
 *
 * Creating, starting and stopping an XState actor costs ~16 µs of CPU, a third of a short job's work; handing an
 * idle actor to the next job costs one `reset` event (~3 µs). An actor is kept only when its job left it `idle`
 * with empty queues; it is reset while parked (its host answers "not ready" and does nothing), then bound to the
 * next job's routine through its forwarding host.
 *
 * A finished supervisor sits in its final status (completed, failed or cancelled), whose only transition is `reset`:
 * the next job sends it and the supervisor goes back to `queued` for that job.
 *
 * Used only without `inspect`: a reused actor keeps the id it was created with (`routine:<firstJobId>:<routineId>`),
 * and the inspector must show each job's own actors.
 */
import { createActor, type Actor } from 'xstate';
import { routineMachine, supervisorMachine, type Inflight, type RoutineHost, type RoutineMachineContext, type SupervisorHost, type SupervisorStatus } from '../../machines/index.js';
import type { RoutineInstance } from '../flow/index.js';

/** A host that answers for whichever job the actor serves now. */
class ForwardingHost implements RoutineHost {
  target: RoutineHost = PARKED;
  ready(context: RoutineMachineContext, arrivalAt?: number, thenIdle?: boolean): boolean {
    return this.target.ready(context, arrivalAt, thenIdle);
  }
  consume(context: RoutineMachineContext, arrivalAt?: number): Inflight {
    return this.target.consume(context, arrivalAt);
  }
  startActivation(context: RoutineMachineContext): void {
    this.target.startActivation(context);
  }
  armRetry(context: RoutineMachineContext): void {
    this.target.armRetry(context);
  }
  busy(delta: 1 | -1): void {
    this.target.busy(delta);
  }
  now(): number {
    return this.target.now();
  }
}

/** The host of a parked actor: never ready, so nothing can start between jobs. */
const PARKED: RoutineHost = {
  ready: () => false,
  consume: () => ({ consumed: {}, counts: {}, message: { reason: 'parked' } }),
  startActivation: () => undefined,
  armRetry: () => undefined,
  busy: () => undefined,
  now: () => 0,
};

/** Forwards to the job a pooled supervisor serves now. */
class ForwardingSupervisorHost implements SupervisorHost {
  target: SupervisorHost = PARKED_SUPERVISOR;
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
  finished(status: 'completed' | 'failed' | 'cancelled', error: unknown): void {
    this.target.finished(status, error);
  }
  status(status: SupervisorStatus): void {
    this.target.status(status);
  }
}

/** A parked supervisor sits in a final status, which answers only `reset`: nothing reaches this host. */
const PARKED_SUPERVISOR: SupervisorHost = {
  quiescent: () => false,
  route: () => undefined,
  deliver: () => undefined,
  pauseRoutines: () => undefined,
  finished: () => undefined,
  status: () => undefined,
};

export interface SupervisorLease {
  readonly actor: Actor<typeof supervisorMachine>;
  readonly host: ForwardingSupervisorHost;
  /** It served a job before: the next job resets it rather than starting it. */
  used: boolean;
}

/** When the routine last activated in its current job (a reused actor's context may hold an earlier job's time). */
export function lastActivationAt(lease: Lease | undefined, context: RoutineMachineContext): number | undefined {
  return lease?.staleAnchor ? undefined : context.lastActivationAt;
}

export interface Lease {
  readonly actor: Actor<typeof routineMachine>;
  readonly host: ForwardingHost;
  /** The context's `lastActivationAt` is an earlier job's (read it as unset until this job's first activation). */
  staleAnchor: boolean;
}

export class ActorPool {
  readonly #free = new WeakMap<RoutineInstance, Lease[]>();
  readonly #supervisors: SupervisorLease[] = [];

  /** @param perRoutine idle actors kept per routine of a flow, and finished supervisors kept */
  constructor(readonly perRoutine: number) {}

  /** An idle actor for `inst` bound to `host`: a pooled one, or a new one with the given id. */
  acquire(inst: RoutineInstance, host: RoutineHost, id: string): Lease {
    const lease = this.#free.get(inst)?.pop() ?? this.#create(inst, id);
    lease.host.target = host;
    return lease;
  }

  /**
   * Takes an actor back from a finished job: kept if idle with empty queues, else stopped. A kept actor whose
   * context is already fresh but for `lastActivationAt` (a job that ended normally) is not even reset: its
   * lease marks that anchor stale, and the next job reads it as unset until its first activation.
   */
  release(inst: RoutineInstance, lease: Lease): void {
    lease.host.target = PARKED;
    const snapshot = lease.actor.getSnapshot();
    let free = this.#free.get(inst);
    const { context } = snapshot;
    let empty = true;
    for (const slot in context.queues) if ((context.queues[slot]?.length ?? 0) > 0) empty = false;
    if (snapshot.value !== 'idle' || !empty || (free?.length ?? 0) >= this.perRoutine) {
      lease.actor.stop();
      return;
    }
    const fresh = context.inflight === undefined && context.attempt === 0 && !context.paused && !context.retryDue && context.firstArrivalAt === undefined;
    if (fresh) lease.staleAnchor = context.lastActivationAt !== undefined;
    else {
      lease.actor.send({ type: 'reset' });
      lease.staleAnchor = false;
    }
    if (!free) this.#free.set(inst, (free = []));
    free.push(lease);
  }

  /**
   * A supervisor for a new job, bound to `host`: a finished one (`used`: the job must `reset` it) or a new one with
   * the given id (the job starts it).
   */
  acquireSupervisor(host: SupervisorHost, id: string, keepAlive: boolean): SupervisorLease {
    const reused = this.#supervisors.pop();
    if (reused) {
      reused.host.target = host;
      return reused;
    }
    const forwarding = new ForwardingSupervisorHost();
    forwarding.target = host;
    const actor = createActor(supervisorMachine, { id, input: { host: forwarding, keepAlive } });
    const lease: SupervisorLease = { actor, host: forwarding, used: false };
    return lease;
  }

  /** Takes a supervisor back once its job finished (after the transition that finished it). */
  releaseSupervisor(lease: SupervisorLease): void {
    lease.host.target = PARKED_SUPERVISOR;
    const { status, value, context } = lease.actor.getSnapshot();
    const final = value === 'completed' || value === 'failed' || value === 'cancelled';
    // A failed or cancelled job's supervisor holds its error (and whatever that references) until a `reset`:
    // dropped rather than kept, so a pool of them cannot pin a thousand errors.
    if (status !== 'active' || !final || context.error !== undefined || this.#supervisors.length >= this.perRoutine) {
      lease.actor.stop();
      return;
    }
    lease.used = true;
    this.#supervisors.push(lease);
  }

  #create(inst: RoutineInstance, id: string): Lease {
    const host = new ForwardingHost();
    const actor = createActor(routineMachine, { id, input: { routineId: inst.id, slots: inst.routine.slotNames, host } });
    actor.start();
    return { actor, host, staleAnchor: false };
  }
}
