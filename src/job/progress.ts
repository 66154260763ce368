/**
 * What `ctx.progress()` takes. The events it sends (`routine.progress`) are throttled per routine per job: at most
 * one per 100 ms of the runtime's clock, and an activation's last update always goes out before its end event.
 */

/** What `ctx.progress()` takes: any of how much is done, out of how much, and a line of text. */
export interface ProgressUpdate {
  /** Units done so far (a finite number >= 0). */
  readonly done?: number;
  /** Units in all (a finite number >= 0). */
  readonly total?: number;
  readonly message?: string;
}
