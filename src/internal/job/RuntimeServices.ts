/**
 * RuntimeServices: what a job needs from the runtime that runs it.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../../clock/index.js';
import type { MetricsCollector } from '../../metrics/index.js';
import type { Scheduler } from '../../scheduler/index.js';
import type { ThreadPools } from '../../threads/index.js';
import type { JobEvent } from '../../types/JobEvent.js';
import type { ActorPool } from './ActorPool.js';
import type { Resources } from '../../runtime/Resources.js';
import type { StartChild } from './subflowPorts.js';
import type { ValidationMode } from '../../types/ValidationMode.js';

export interface RuntimeServices {
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
  readonly historyLimit: number;
  /** Idle routine actors reused across jobs; absent with `inspect` (each job's actors then carry its own ids). */
  readonly actorPool: ActorPool | undefined;
  readonly validation: ValidationMode;
  /** Counts and times activations and jobs (`runtime.metrics()`, `job.metrics`). */
  readonly metrics: MetricsCollector;
  /** Worker threads for routines with isolation 'thread' (the pools start on first use). */
  readonly threads: ThreadPools;
  /** `createRuntime({ resources })`, for `ctx.resource(name)`. */
  readonly resources: Resources;
  /** Subflows (`asRoutine`): starts or restores a child job. */
  readonly startChild: StartChild;
  /** True while someone listens to `runtime.events$`. */
  runtimeObserved(): boolean;
  publish(event: JobEvent): void;
  /** A job reached a final status. */
  finished(jobId: string): void;
}
