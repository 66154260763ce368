/**
 * progress: `ctx.progress({ done?, total?, message? })` -> `routine.progress` events, throttled per routine per job.
 *
 * At most one event per routine per job per 100 ms of the runtime's clock. A call inside the spacing is held (the
 * newest replaces an older held one) and goes out when the spacing ends, by a timer that does not count as job
 * work (it never keeps a job from completing). When the activation ends, a held update goes out at once, exempt
 * from the spacing, before the activation's `routine.completed` / `routine.failed`: the last word of an activation
 * is never lost. The state lives beside the job's cell (a WeakMap), so activations that never report cost nothing.
 */
import type { TimerHandle } from '../../clock/index.js';
import { InvalidOptionError } from '../../errors/index.js';
import { assertKnownKeys } from '../../util/assertKnownKeys.js';
import type { ProgressUpdate } from '../../types/ProgressUpdate.js';
import type { ActivationJob } from './ActivationJob.js';
import type { RoutineCell } from './RoutineCell.js';

/** The spacing between two `routine.progress` events of one routine in one job (clock ms). */
export const PROGRESS_SPACING_MS = 100;

const KEYS = ['done', 'total', 'message'] as const;

interface Throttle {
  /** When the last event went out (clock ms). */
  lastAt: number;
  held: ProgressUpdate | undefined;
  timer: TimerHandle;
}

const throttles = new WeakMap<RoutineCell, Throttle>();

/** Checks a `progress()` argument: a typo or a wrong type is the caller's bug, told at once. */
function assertProgress(job: ActivationJob, cell: RoutineCell, update: unknown): ProgressUpdate {
  const where = `progress() of routine '${cell.id}' in flow '${job.flowId}'`;
  if (typeof update !== 'object' || update === null || Array.isArray(update)) throw new InvalidOptionError(where, 'an object { done?, total?, message? }', update);
  assertKnownKeys(where, update, KEYS);
  const { done, total, message } = update as Record<string, unknown>;
  for (const [key, value] of [
    ['done', done],
    ['total', total],
  ] as const)
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) throw new InvalidOptionError(`${where}.${key}`, 'a finite number >= 0', value);
  if (message !== undefined && typeof message !== 'string') throw new InvalidOptionError(`${where}.message`, 'a string', message);
  // A copy: the caller may reuse (mutate) its object for the next call while this one is held.
  const out: { done?: number; total?: number; message?: string } = {};
  if (done !== undefined) out.done = done as number;
  if (total !== undefined) out.total = total as number;
  if (message !== undefined) out.message = message;
  return out;
}

/** `ctx.progress(update)` of the activation running in `cell`. */
export function reportProgress(job: ActivationJob, cell: RoutineCell, value: unknown): void {
  const update = assertProgress(job, cell, value);
  const act = cell.current;
  if (act) act.progressed = true;
  const clock = job.services.clock;
  const now = clock.now();
  let throttle = throttles.get(cell);
  if (!throttle) throttles.set(cell, (throttle = { lastAt: Number.NEGATIVE_INFINITY, held: undefined, timer: undefined }));
  if (throttle.timer === undefined && now - throttle.lastAt >= PROGRESS_SPACING_MS) {
    send(job, cell, throttle, update, now);
    return;
  }
  throttle.held = update;
  if (throttle.timer !== undefined) return;
  const own = throttle;
  own.timer = clock.setTimeout(
    () => {
      own.timer = undefined;
      const held = own.held;
      if (held && !job.finished) send(job, cell, own, held, clock.now());
    },
    Math.max(0, own.lastAt + PROGRESS_SPACING_MS - now),
  );
}

/** The activation in `cell` ended: its held update (if any) goes out now, before the activation's end event. */
export function flushProgress(job: ActivationJob, cell: RoutineCell): void {
  const throttle = throttles.get(cell);
  if (!throttle) return;
  if (throttle.timer !== undefined) {
    job.services.clock.clearTimeout(throttle.timer);
    throttle.timer = undefined;
  }
  const held = throttle.held;
  if (held) send(job, cell, throttle, held, job.services.clock.now());
}

function send(job: ActivationJob, cell: RoutineCell, throttle: Throttle, update: ProgressUpdate, now: number): void {
  throttle.held = undefined;
  throttle.lastAt = now;
  if (job.wantsEvents) job.publish({ type: 'routine.progress', jobId: job.id, flowId: job.flowId, at: now, routineId: cell.id, ...update });
}
