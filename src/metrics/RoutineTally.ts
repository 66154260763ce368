/**
 * RoutineTally: the counters and distributions of a flow's routines, for one job or for the whole runtime. One
 * array holds every routine's counters (a row per routine), allocated on the first activation, so a job pays one
 * allocation for all of its routines; quantiles are kept only for a series with two values or more. (A plain
 * array: a typed array this size lives outside the heap, and allocating one costs a microsecond.)
 */
import { Quantiles } from './Quantiles.js';
import type { DurationStats, RoutineMetrics } from './RuntimeMetrics.js';

// A row: five counters, then (count, sum, min, max) of the durations, then of the queue waits.
const ACTIVATIONS = 0;
const ERRORS = 1;
const RETRIES = 2;
const TIMEOUTS = 3;
const CANCELLED = 4;
const DURATION = 5;
const WAIT = 9;
const ABANDONED = 13;
const ROW = 14;

const QS = [0.5, 0.95, 0.99] as const;

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Count, sum, min and max of a value series, plus its quantiles (lazily), as a `DurationStats`. */
export function durationStats(count: number, sum: number, min: number, max: number, quantiles: Quantiles | undefined): DurationStats {
  if (count === 0) return { count: 0, mean: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const [p50, p95, p99] = quantiles ? quantiles.read(QS, count, min, max) : [min, min, min];
  return { count, mean: round(sum / count), min: round(min), p50: round(p50 ?? min), p95: round(p95 ?? min), p99: round(p99 ?? min), max: round(max) };
}

/** Adds `value` to the series at `at` (count, sum, min, max) in `rows`; returns its quantiles, created from the second value on. */
function addTo(rows: number[], at: number, value: number, quantiles: Quantiles | undefined, compact: boolean): Quantiles | undefined {
  const count = rows[at] as number;
  rows[at] = count + 1;
  rows[at + 1] = (rows[at + 1] as number) + value;
  if (count === 0) {
    rows[at + 2] = rows[at + 3] = value;
    return undefined;
  }
  const min = rows[at + 2] as number;
  if (!quantiles) {
    // the second value: the first one is the min (and max) so far
    quantiles = new Quantiles(compact);
    quantiles.add(min);
  }
  quantiles.add(value);
  if (value < min) rows[at + 2] = value;
  if (value > (rows[at + 3] as number)) rows[at + 3] = value;
  return quantiles;
}

export class RoutineTally {
  #rows: number[] | undefined;
  /** Two per routine (durations, queue waits), created when a series gets its second value. */
  #quantiles: (Quantiles | undefined)[] | undefined;

  /** `compact`: quantile histograms count in 32 bits (one job's tally). */
  constructor(
    readonly routineIds: readonly string[],
    private readonly compact = false,
  ) {}

  #allocate(): number[] {
    return (this.#rows = new Array<number>(this.routineIds.length * ROW).fill(0));
  }

  /** An attempt of routine `index` ended with an outcome; `retried`: its failure is retried. */
  ended(index: number, outcome: 'ok' | 'error' | 'timeout', retried: boolean, waitMs: number, durationMs: number): void {
    const rows = this.#rows ?? this.#allocate();
    const base = index * ROW;
    rows[base + ACTIVATIONS] = (rows[base + ACTIVATIONS] as number) + 1;
    if (outcome !== 'ok') {
      rows[base + ERRORS] = (rows[base + ERRORS] as number) + 1;
      if (outcome === 'timeout') rows[base + TIMEOUTS] = (rows[base + TIMEOUTS] as number) + 1;
      if (retried) rows[base + RETRIES] = (rows[base + RETRIES] as number) + 1;
    }
    this.#add(base + WAIT, index * 2 + 1, waitMs);
    this.#add(base + DURATION, index * 2, durationMs);
  }

  /** An attempt of routine `index` was still running when its job ended. */
  cancelled(index: number, waitMs: number): void {
    const rows = this.#rows ?? this.#allocate();
    const base = index * ROW;
    rows[base + ACTIVATIONS] = (rows[base + ACTIVATIONS] as number) + 1;
    rows[base + CANCELLED] = (rows[base + CANCELLED] as number) + 1;
    this.#add(base + WAIT, index * 2 + 1, waitMs);
  }

  /** An attempt of routine `index` was given up on while its `run` still ran (see `RoutineMetrics.abandoned`). */
  abandoned(index: number): void {
    const rows = this.#rows ?? this.#allocate();
    const at = index * ROW + ABANDONED;
    rows[at] = (rows[at] as number) + 1;
  }

  #add(at: number, series: number, value: number): void {
    const all = this.#quantiles;
    const before = all?.[series];
    const after = addTo(this.#rows as number[], at, value, before, this.compact);
    if (after !== before) (this.#quantiles ??= new Array<Quantiles | undefined>(this.routineIds.length * 2).fill(undefined))[series] = after;
  }

  read(index: number): RoutineMetrics {
    const rows = this.#rows ?? this.#allocate();
    const base = index * ROW;
    const series = (at: number, q: number): DurationStats =>
      durationStats(rows[at] as number, rows[at + 1] as number, rows[at + 2] as number, rows[at + 3] as number, this.#quantiles?.[q]);
    return {
      activations: rows[base + ACTIVATIONS] as number,
      errors: rows[base + ERRORS] as number,
      retries: rows[base + RETRIES] as number,
      timeouts: rows[base + TIMEOUTS] as number,
      cancelled: rows[base + CANCELLED] as number,
      abandoned: rows[base + ABANDONED] as number,
      durationMs: series(base + DURATION, index * 2),
      queueWaitMs: series(base + WAIT, index * 2 + 1),
    };
  }

  /** Every routine, by id in the flow's order. */
  readAll(): Record<string, RoutineMetrics> {
    return Object.fromEntries(this.routineIds.map((id, index) => [id, this.read(index)]));
  }

  reset(): void {
    this.#rows = undefined;
    this.#quantiles = undefined;
  }
}

/** A distribution on its own (job durations): count, sum, min, max and quantiles. */
export class Distribution {
  readonly #row = [0, 0, 0, 0];
  #quantiles: Quantiles | undefined;

  add(ms: number): void {
    this.#quantiles = addTo(this.#row, 0, ms, this.#quantiles, false);
  }

  read(): DurationStats {
    const row = this.#row;
    return durationStats(row[0] as number, row[1] as number, row[2] as number, row[3] as number, this.#quantiles);
  }

  reset(): void {
    this.#row.fill(0);
    this.#quantiles = undefined;
  }
}
