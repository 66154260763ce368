/**
 * RoutineTimers: a job's routine timers, all on the runtime's clock: a timed policy's timer (interval, window), a
 * retry's backoff, and a failed policy's retry. `pending` counts the ones that keep the job from being quiescent (a
 * retry in backoff keeps its routine busy instead).
 */
import type { RoutineMachineEvent } from '../../../machines/index.js';
import type { Clock } from '../../clock/index.js';
import type { JobEvent } from '../../types/JobEvent.js';
import type { CellOwner } from './ActorCell.js';
import type { RoutineCell } from './RoutineCell.js';

/** What the timers need of their job. */
export interface TimedJob {
  readonly id: string;
  readonly flowId: string;
  readonly wantsEvents: boolean;
  readonly services: { readonly clock: Clock };
  publish(event: JobEvent): void;
  /** Sends an event to a routine actor (a tick, a retry), then lets the job re-check. */
  sendRoutine(cell: RoutineCell, event: RoutineMachineEvent): void;
}

export class RoutineTimers {
  /** Policy timers and policy retries armed (a job with any is not quiescent). */
  pending = 0;

  constructor(
    private readonly job: TimedJob,
    private readonly owner: CellOwner,
  ) {}

  /** Arms (or re-arms, or clears) the routine's policy timer from its policy's `dueAt`. */
  armPolicy(cell: RoutineCell): void {
    const live = cell.live;
    const idle = live !== undefined && !live.paused && live.actor.getSnapshot().value === 'idle';
    const due = idle ? cell.inst.policy.dueAt?.(live.queues, live.policyContext(cell, this.owner)) : undefined;
    if (due === cell.timerDue) return;
    const clock = this.job.services.clock;
    if (cell.timer !== undefined) {
      clock.clearTimeout(cell.timer);
      cell.timer = undefined;
      this.pending--;
    }
    cell.timerDue = due;
    if (due === undefined) return;
    this.pending++;
    cell.timer = clock.setTimeout(
      () => {
        cell.timer = undefined;
        cell.timerDue = undefined;
        this.pending--;
        this.job.sendRoutine(cell, { type: 'tick' });
      },
      Math.max(0, due - clock.now()),
    );
  }

  /** Entering `backoff`: the retry comes as a `retry` event when due (a restored backoff keeps its due time). */
  armRetry(cell: RoutineCell, attempt: number): void {
    const job = this.job;
    const clock = job.services.clock;
    const now = clock.now();
    const delayMs = cell.current ? cell.current.retryDelayMs : Math.max(0, (cell.retryAt ?? now) - now);
    cell.retryAt = now + delayMs;
    const fire = () => {
      cell.retryTimer = undefined;
      cell.retryAt = undefined;
      job.sendRoutine(cell, { type: 'retry' });
    };
    // (A restored backoff was announced before the snapshot.)
    if (job.wantsEvents && cell.current) job.publish({ type: 'routine.retrying', jobId: job.id, flowId: job.flowId, at: now, routineId: cell.id, attempt, delayMs });
    cell.current = undefined;
    // Never send to the actor from inside its own transition: even a zero delay waits for a microtask (not a
    // timer: a test clock would hold it until advanced).
    if (delayMs > 0) cell.retryTimer = clock.setTimeout(fire, delayMs);
    else queueMicrotask(fire);
  }

  /**
   * The policy itself failed and its strategy says `continue` or `retry`: the routine goes back to `idle` without
   * asking the policy again at once; a retry asks it again after its backoff (as a policy tick would), a `continue`
   * on the next arrival or tick. Its data stays queued.
   */
  policyFailed(cell: RoutineCell, retryDelayMs: number | undefined): void {
    const job = this.job;
    if (retryDelayMs !== undefined) {
      this.pending++;
      cell.policyRetryTimer = job.services.clock.setTimeout(() => {
        cell.policyRetryTimer = undefined;
        this.pending--;
        job.sendRoutine(cell, { type: 'tick' });
      }, retryDelayMs);
    }
    job.sendRoutine(cell, { type: 'activation.failed', decision: 'continue', error: undefined, policy: true });
  }

  /** Clears the routine's timers (its job ended). */
  clear(cell: RoutineCell): void {
    const clock = this.job.services.clock;
    if (cell.timer !== undefined) clock.clearTimeout(cell.timer);
    if (cell.retryTimer !== undefined) clock.clearTimeout(cell.retryTimer);
    if (cell.policyRetryTimer !== undefined) clock.clearTimeout(cell.policyRetryTimer);
    cell.timer = cell.retryTimer = cell.policyRetryTimer = undefined;
    cell.timerDue = undefined;
  }
}
