/**
 * createServices: what every job of a runtime shares (scheduler, clock, actor pool, metrics, threads, resources),
 * wired to the runtime's event bus and to its job registry through callbacks.
 */
import { systemClock } from '../../clock/Clock.js';
import { ActorPool } from '../job/ActorPool.js';
import type { JobEvent } from '../../types/JobEvent.js';
import type { RuntimeServices } from '../job/RuntimeServices.js';
import { MetricsCollector } from '../../metrics/MetricsCollector.js';
import type { EventBus } from '../../runtime/EventBus.js';
import { Resources } from '../../runtime/Resources.js';
import { Scheduler } from '../../scheduler/Scheduler.js';
import { ThreadPools } from '../../threads/index.js';
import type { StartChild } from '../job/subflowPorts.js';
import type { RuntimeSettings } from './runtimeSettings.js';

/** The services of the jobs of one runtime; `finished(jobId)` is told when a job is over, its cleanups done. */
export function createServices(settings: RuntimeSettings, bus: EventBus, finished: (jobId: string) => void, startChild: StartChild): RuntimeServices {
  const { clock, inspect, reuseActors } = settings;
  return {
    scheduler: new Scheduler(settings.concurrency),
    clock,
    inspect,
    actorPool: inspect || reuseActors === 0 ? undefined : new ActorPool(reuseActors),
    historyLimit: settings.historyLimit,
    validation: settings.validation,
    metrics: new MetricsCollector(settings.metrics, clock, clock === systemClock),
    threads: new ThreadPools(settings.threads),
    resources: new Resources(settings.resources),
    startChild,
    runtimeObserved: () => bus.observed,
    publish: (event: JobEvent) => {
      bus.publish(event);
    },
    finished,
  };
}
