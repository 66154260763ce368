/**
 * ProgressUpdate: what `ctx.progress()` takes. Here rather than beside the code that throttles it, so routine
 * definitions and worker threads can name it without importing the engine.
 */

/** What `ctx.progress()` takes: any of how much is done, out of how much, and a line of text. */
export interface ProgressUpdate {
  /** Units done so far (a finite number >= 0). */
  readonly done?: number;
  /** Units in all (a finite number >= 0). */
  readonly total?: number;
  readonly message?: string;
}
