/**
 * Admission: at most `maxJobs` jobs running at once; the others wait in `queued`, in exec order, for a place.
 * Without a bound (the default) nothing waits and nothing is tracked.
 */

/** What admission sees of a job. */
export interface Admittable {
  readonly finished: boolean;
  /** Starts the job (it leaves `queued`). */
  admit(): void;
}

export class Admission<TJob extends Admittable> {
  readonly #maxJobs: number;
  /** Jobs waiting for a place, in exec order. */
  readonly #waiting: TJob[] = [];
  readonly #admitted = new Set<TJob>();
  #scheduled = false;

  constructor(maxJobs: number) {
    this.#maxJobs = maxJobs;
  }

  /** A new job: admitted at once when there is a place, else it waits. */
  enter(job: TJob): void {
    if (job.finished) return;
    if (this.#maxJobs === Number.POSITIVE_INFINITY) job.admit();
    else if (this.#admitted.size < this.#maxJobs) this.#admit(job);
    else this.#waiting.push(job);
  }

  /** A job finished (admitted or still waiting): its place goes to the next waiting job. */
  leave(job: TJob): void {
    if (this.#maxJobs === Number.POSITIVE_INFINITY) return;
    if (!this.#admitted.delete(job)) {
      const at = this.#waiting.indexOf(job);
      if (at >= 0) this.#waiting.splice(at, 1);
    }
    // Admit after this step: it runs inside the finishing job's supervisor transition.
    if (this.#waiting.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#admitWaiting);
    }
  }

  readonly #admitWaiting = (): void => {
    this.#scheduled = false;
    while (this.#admitted.size < this.#maxJobs && this.#waiting.length > 0) this.#admit(this.#waiting.shift() as TJob);
  };

  #admit(job: TJob): void {
    this.#admitted.add(job);
    job.admit();
  }
}
