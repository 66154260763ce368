/**
 * StepGate: a job's breakpoints and `step()`. Every activation that got its scheduler permit asks `holds` before it
 * starts (one boolean check on the hot path while no breakpoint or step is set); a held activation pauses the job and
 * waits at the head of its queue.
 */
import type { Inflight } from '../../../machines/index.js';
import type { Clock } from '../../clock/index.js';
import type { FlowDefinition } from '../../flow/index.js';
import { breakpointRoutines } from './breakpointRoutines.js';
import type { JobEvent } from '../../types/JobEvent.js';

/** What the gate needs of its job. */
export interface GatedJob {
  readonly id: string;
  readonly flowId: string;
  readonly flow: FlowDefinition;
  readonly wantsEvents: boolean;
  readonly services: { readonly clock: Clock };
  publish(event: JobEvent): void;
  /** Pauses the job (outside any machine transition) and puts `task` back at the head of its queue. */
  holdTask(task: () => void): void;
}

/** Most jobs set no breakpoint: they share this empty set (it is replaced, never changed). */
const NO_BREAKPOINTS: ReadonlySet<string> = new Set();

export class StepGate {
  /** Breakpoints or a step are set: activations must ask `holds`. */
  gated = false;
  /** The routine whose breakpoint holds the job, until that activation starts. */
  pausedAt: string | undefined;
  /** Routine ids the job pauses before. */
  #breakpoints: ReadonlySet<string> = NO_BREAKPOINTS;
  /** `step()`: activations that may still start before the job pauses again (`undefined`: not stepping). */
  #stepBudget: number | undefined;

  constructor(private readonly job: GatedJob) {}

  get breakpoints(): readonly { readonly routine: string }[] {
    return [...this.#breakpoints].map((routine) => ({ routine }));
  }

  /** Replaces the breakpoints (checked against the flow). */
  setBreakpoints(breakpoints: unknown, where: string): void {
    this.#breakpoints = breakpointRoutines(this.job.flow, where, breakpoints);
    this.gated = this.#breakpoints.size > 0 || this.#stepBudget !== undefined;
  }

  /** `resume()`: no step pending; breakpoints stay. */
  resume(): void {
    this.#stepBudget = undefined;
    this.gated = this.#breakpoints.size > 0;
  }

  /** `step()`: exactly one more activation starts, then the job pauses before the next. */
  step(): void {
    this.#stepBudget = 1;
    this.gated = true;
  }

  /**
   * An activation of `routineId` got its scheduler permit: true when it must wait instead (a breakpoint on its
   * routine, not yet `passed`, or a step already spent). The job pauses, and the task goes back to the head of its queue.
   */
  holds(routineId: string, inflight: Inflight, task: () => void, passed: boolean): boolean {
    const atBreakpoint = !passed && this.#breakpoints.has(routineId);
    if (this.#stepBudget !== undefined) {
      if (this.#stepBudget > 0) {
        this.#stepBudget--;
        return false;
      }
    } else if (!atBreakpoint) return false;
    this.resume();
    const job = this.job;
    job.holdTask(task);
    if (!atBreakpoint) return true;
    this.pausedAt = routineId;
    if (job.wantsEvents) job.publish({ type: 'job.breakpoint', jobId: job.id, flowId: job.flowId, at: job.services.clock.now(), routineId, consumed: inflight.consumed });
    return true;
  }
}
