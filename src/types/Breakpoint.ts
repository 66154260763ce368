/**
 * Breakpoint: where a job stops for a debugger. The job pauses before activating the routine (status `paused`, a
 * `job.breakpoint` event with what the activation would consume); `job.step()` runs the next activation only,
 * `job.resume()` goes on to the next breakpoint.
 */

export interface Breakpoint {
  /** The routine (its id in the flow) to pause before. */
  readonly routine: string;
}
