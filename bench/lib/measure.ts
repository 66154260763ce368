/**
 * Host side of a measurement: warm a session up, calibrate its units per round, time one run.
 */
import type { Session } from './types.js';
import { cpuMicros, fullGc, withTimeout } from './util.js';

export interface Sample {
  /** CPU µs (user + system) per unit. */
  cpuPerUnit: number;
  /** Wall ms per unit. */
  wallPerUnit: number;
}

export interface Calibration {
  /** Wall time of the warm-up (at least `minWarmUnits` units). */
  warmupMs: number;
  minWarmUnits: number;
  /** Target wall time of one contender's share of a round. */
  roundMs: number;
  minCount: number;
  maxCount: number;
  /** A single run that takes longer than this (plus 20 round targets) is a hang. */
  timeoutMs: number;
}

/**
 * Warm up (growing chunks until `warmupMs` is spent), then calibrate on the warm code: grow a chunk until it
 * takes a quarter of `roundMs`, and return the unit count that fills `roundMs` (within minCount..maxCount).
 */
export async function warmUp(session: Session, calibration: Calibration): Promise<number> {
  const limit = calibration.timeoutMs + 20 * Math.max(calibration.warmupMs, calibration.roundMs);
  const start = performance.now();
  let units = 0;
  let chunk = 1;
  while (units < calibration.minWarmUnits || performance.now() - start < calibration.warmupMs) {
    const t0 = performance.now();
    await withTimeout(session.run(chunk), limit, 'warm-up');
    const perUnitMs = (performance.now() - t0) / chunk;
    units += chunk;
    const left = calibration.warmupMs - (performance.now() - start);
    // grow the chunk, but never past what the remaining warm-up time allows
    chunk = Math.max(1, Math.min(chunk * 2, Math.floor(left / Math.max(perUnitMs, 1e-3))));
  }
  chunk = Math.min(Math.max(1, calibration.minCount), calibration.maxCount);
  for (;;) {
    const t0 = performance.now();
    await withTimeout(session.run(chunk), limit, 'calibration');
    const tookMs = performance.now() - t0;
    if (tookMs >= calibration.roundMs / 4 || chunk >= calibration.maxCount) {
      const count = Math.round(calibration.roundMs / Math.max(tookMs / chunk, 1e-4));
      return Math.max(calibration.minCount, Math.min(calibration.maxCount, count));
    }
    const aim = Math.ceil((chunk * calibration.roundMs) / 4 / Math.max(tookMs, 1e-3));
    chunk = Math.min(calibration.maxCount, Math.max(chunk * 2, Math.min(aim, chunk * 16)));
  }
}

/** One measured run: a full GC first, then CPU and wall time of `count` units. */
export async function measure(session: Session, count: number, calibration: Calibration): Promise<Sample> {
  await fullGc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await withTimeout(session.run(count), calibration.timeoutMs + 20 * calibration.roundMs, 'run');
  const wall = performance.now() - t0;
  const cpu = cpuMicros(cpu0);
  return { cpuPerUnit: cpu / count, wallPerUnit: wall / count };
}
