/**
 * EventBus: delivers job events to `runtime.events$` and `job.events$` subscribers asynchronously (a microtask
 * after the routing loop produced them), so a slow or throwing subscriber never runs inside a job's transition.
 * RxJS reports an error thrown by a subscriber on its own (`config.onUnhandledError`); the job goes on.
 */
import { Observable, type Subscriber } from 'rxjs';
import type { JobEvent } from '../job/index.js';

const TERMINAL = new Set(['job.completed', 'job.failed', 'job.cancelled']);

export class EventBus {
  readonly #runtime = new Set<Subscriber<JobEvent>>();
  readonly #jobs = new Map<string, Set<Subscriber<JobEvent>>>();
  #pending: JobEvent[] = [];
  #scheduled = false;

  readonly events$ = new Observable<JobEvent>((subscriber) => {
    this.#runtime.add(subscriber);
    return () => this.#runtime.delete(subscriber);
  });

  get observed(): boolean {
    return this.#runtime.size > 0;
  }

  /** The stream of one job. `isFinished` lets a late subscriber to a finished job complete at once. */
  jobEvents$(jobId: string, onSubscribe: () => void, isFinished: () => boolean): Observable<JobEvent> {
    return new Observable<JobEvent>((subscriber) => {
      if (isFinished() && !this.#pending.some((e) => e.jobId === jobId)) {
        subscriber.complete();
        return undefined;
      }
      onSubscribe();
      let set = this.#jobs.get(jobId);
      if (!set) this.#jobs.set(jobId, (set = new Set()));
      set.add(subscriber);
      return () => {
        set.delete(subscriber);
        if (set.size === 0 && this.#jobs.get(jobId) === set) this.#jobs.delete(jobId);
      };
    });
  }

  publish(event: JobEvent): void {
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    for (const event of batch) {
      for (const subscriber of this.#runtime) subscriber.next(event);
      const set = this.#jobs.get(event.jobId);
      if (!set) continue;
      for (const subscriber of set) subscriber.next(event);
      if (TERMINAL.has(event.type)) {
        this.#jobs.delete(event.jobId);
        for (const subscriber of set) subscriber.complete();
      }
    }
  };
}
