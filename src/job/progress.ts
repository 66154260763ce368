/**
 * What `ctx.progress()` takes. The events it sends (`routine.progress`) are throttled per routine per job: at most
 * one per 100 ms of the runtime's clock, and an activation's last update always goes out before its end event.
 */

export type { ProgressUpdate } from '../types/ProgressUpdate.js';
