/**
 * ThreadTarget: names the routine a threaded activation runs. Its own file, as the main thread's side of a threaded
 * activation (runInThread, ThreadExchange, moduleProblem) all read it.
 */
import type { ThreadResourceLimits } from './isolation.js';

/** Which routine a threaded activation runs, for the worker and for error messages. */
export interface ThreadTarget {
  readonly flowId: string;
  /** The routine's id in the flow. */
  readonly routineId: string;
  /** The definition's `name` and module, which the worker imports. */
  readonly name: string;
  readonly module: string;
  readonly resourceLimits: ThreadResourceLimits | undefined;
}
