/**
 * Router: moves a job's payloads. An emitted payload goes to every connected slot in connection order (a bounded
 * cycle edge only while its guard lets it through); a posted payload into one slot. A delivery checks the payload,
 * the slot's queue bound, queues the payload in the routine's cell and announces it to the routine actor
 * (`slot.<name>`), whose policy guard then decides.
 *
 * Nothing here throws for bad data: `route` and `deliver` return the failure (an invalid payload, a full queue, an
 * `until` that threw), and the caller decides (the emitting activation fails, a `post` throws, admission fails the
 * job). Routing may run inside the supervisor's transition, where nothing may throw.
 */
import { edgeOutcome } from '../../../machines/index.js';
import type { Clock } from '../../clock/index.js';
import { CycleExhaustedError, JobFinishedError, PayloadError, SlotQueueFullError } from '../../errors/index.js';
import type { Connection, FlowDefinition } from '../../flow/index.js';
import type { JobEvent } from '../../types/JobEvent.js';
import type { CycleRecord, JobStatus } from '../../types/JobState.js';
import type { ValidationMode } from '../../types/ValidationMode.js';
import type { Payload } from '../../routine/index.js';
import { deepFreeze } from '../../util/deepFreeze.js';
import type { JobOptions } from './JobOptions.js';
import type { RoutineCell } from './RoutineCell.js';
import { payloadIssues } from './validatePayload.js';

/** What the router reads and changes of its job. */
export interface RoutedJob {
  readonly id: string;
  readonly flowId: string;
  readonly flow: FlowDefinition;
  readonly cells: ReadonlyMap<string, RoutineCell>;
  readonly status: JobStatus;
  readonly wantsEvents: boolean;
  readonly services: { readonly clock: Clock; readonly validation: ValidationMode };
  readonly data: {
    cycle(name: string): CycleRecord;
    setCycle(name: string, iterations: number, converged: boolean): void;
    addOutput(key: string, payload: Payload): void;
    touch(): void;
  };
  publish(event: JobEvent): void;
  /** A delivery into a timed policy's routine: its timer may move. */
  armPolicyTimer(cell: RoutineCell): void;
  /** An `onExhausted: 'fail'` edge ran out: the job fails as a whole. */
  fail(error: Error): void;
}

export class Router {
  constructor(private readonly job: RoutedJob) {}

  /**
   * The job's first deliveries. Without keepAlive the entry is always triggered (params default to `{}`): a job that
   * ran nothing would report `completed` with nothing done. A keepAlive job waits for posts, so only given params
   * trigger it; a job opened by a post (`initial`) has that post as its first delivery.
   */
  deliverFirst(options: Pick<JobOptions, 'params' | 'initial' | 'keepAlive'>): Error | undefined {
    const { entry } = this.job.flow;
    const { initial, keepAlive } = options;
    const params = options.params ?? (keepAlive || initial ? undefined : {});
    const first = params !== undefined && entry ? this.deliver(entry.routine, entry.slot, params) : undefined;
    const second = initial ? this.deliver(initial.routine, initial.slot, initial.payload) : undefined;
    return first ?? second;
  }

  /**
   * Routes one emission. Returns the first failure (the delivery stops there), or `undefined`. An exhausted
   * `onExhausted: 'fail'` edge fails the job once the whole emission is routed, whatever the emitter's strategy.
   */
  route(routineId: string, event: string, payload: Payload): Error | undefined {
    const key = `${routineId}.${event}`;
    const connections = this.job.flow.outgoing.get(key);
    let delivered = false;
    let stopped = false;
    // The first failure wins; an `until` that threw skips its edge only, a failed delivery stops the routing.
    let failure: Error | undefined;
    let exhausted: Error | undefined;
    for (const connection of connections ?? []) {
      const crossed = connection.bound ? this.#cross(connection, payload) : true;
      if (crossed !== true) {
        if (crossed instanceof CycleExhaustedError) exhausted ??= crossed;
        else if (crossed) failure ??= crossed;
        continue;
      }
      const refused = this.deliver(connection.to.routine, connection.to.slot, payload);
      if (refused) {
        failure ??= refused;
        stopped = true;
        break;
      }
      delivered = true;
    }
    // Payloads that reach no slot (no connection, or every edge converged or was exhausted) are the flow's results.
    if (!delivered && !stopped) this.job.data.addOutput(key, payload);
    if (exhausted) this.job.fail(exhausted);
    return failure;
  }

  /**
   * The cycle guard of a bounded edge (`!until(payload) && iterations < maxIterations`): `true` to deliver, else
   * `undefined` (converged, or exhausted without failing the job), a `CycleExhaustedError` (exhausted, failing the
   * job) or the error `until` threw.
   */
  #cross(connection: Connection, payload: Payload): true | Error | undefined {
    const job = this.job;
    const bound = connection.bound;
    if (!bound) return true;
    const record = job.data.cycle(connection.name);
    let converged = false;
    if (bound.until) {
      try {
        converged = bound.until(payload, { iterations: record.iterations, jobId: job.id, edge: connection.name });
      } catch (error) {
        return error instanceof Error ? error : new PayloadError(job.flowId, connection.from.routine, `edge '${connection.name}' until()`, [String(error)]);
      }
    }
    const outcome = edgeOutcome(converged, record.iterations, bound.maxIterations);
    if (outcome === 'deliver') {
      job.data.setCycle(connection.name, record.iterations + 1, false);
      return true;
    }
    job.data.setCycle(connection.name, record.iterations, outcome === 'converged');
    if (job.wantsEvents)
      job.publish({ type: outcome === 'converged' ? 'cycle.converged' : 'cycle.exhausted', jobId: job.id, flowId: job.flowId, at: job.services.clock.now(), edge: connection.name, iterations: record.iterations });
    return outcome === 'exhausted' && bound.onExhausted === 'fail' ? new CycleExhaustedError(job.flowId, connection.name, bound.maxIterations) : undefined;
  }

  /**
   * Delivers into `routineId.slot` (known to exist: connections were validated when the flow compiled, posts by
   * `assertSlot`). Returns why it was not delivered, or `undefined`.
   */
  deliver(routineId: string, slot: string, payload: unknown): Error | undefined {
    const job = this.job;
    const cell = job.cells.get(routineId) as RoutineCell;
    const live = cell.live;
    if (!live) return new JobFinishedError(job.id, job.status);
    // Params and posts enter the job here and are frozen in place (a routed payload was frozen by `emit`: no walk).
    deepFreeze(payload);
    const { validation } = job.services;
    const { issues, bySchema } = payloadIssues(payload, cell.inst.routine.slotSpecs[slot], validation);
    if (issues.length) {
      const error = new PayloadError(job.flowId, routineId, `slot '${slot}'`, issues);
      if (!bySchema || validation === 'strict') return error;
      if (job.wantsEvents) job.publish({ type: 'job.warning', jobId: job.id, flowId: job.flowId, at: job.services.clock.now(), code: 'payload.invalid', message: error.message, routineId });
    }
    const queue = live.queues[slot];
    if (queue && queue.length >= cell.inst.maxQueue) return new SlotQueueFullError(job.flowId, routineId, slot, cell.inst.maxQueue);
    // Queued first, then announced: the policy guard of the `slot.<name>` transition sees the arrival.
    live.arrive(slot, payload);
    cell.version++;
    job.data.touch();
    if (cell.inst.policy.dueAt) job.armPolicyTimer(cell);
    return undefined;
  }
}
