/**
 * Quantiles: the values of one distribution (durations in ms), kept for p50/p95/p99. The first 32 values are kept
 * exactly (so small counts give exact quantiles); past that they move into a fixed histogram: 8 buckets per
 * octave of microseconds (each at most 12.5% wide). A quantile read from it is the geometric middle of its bucket,
 * within sqrt(9/8) - 1 = 6.1% of the exact one from 1 µs to 12.7 days (and within 1 µs below 1 µs).
 * Adding a value is O(1), a few bit operations (no logarithm), and allocates nothing but the one move to the
 * histogram; memory is bounded (1.3 or 2.6 KB).
 */

/** Buckets per octave (the top 3 bits of the mantissa). */
const PER_OCTAVE = 8;
/** Octaves above 1 µs: up to 2^40 µs ≈ 12.7 days; longer values share the overflow bucket. */
const OCTAVES = 40;
/** [0, 1 µs), the octave buckets, then the overflow bucket. */
const BUCKETS = 2 + PER_OCTAVE * OCTAVES;
const OVERFLOW = BUCKETS - 1;
/** Values kept exactly before the histogram takes over. */
const EXACT = 32;

// The bucket comes from the bits of the value as a double: its exponent (the octave) and the top 3 bits of its
// mantissa (the eighth within the octave). Math.log2 costs twice as much, on every activation. (Little-endian:
// the high word of a double is its second; every platform Node runs on.)
const scratch = new Float64Array(1);
const high = new Uint32Array(scratch.buffer, 4, 1);
const ONE_US = 1023 << 3; // exponent bias, as it sits in `high >>> 17`

/** The bucket of a value in ms. */
function bucketOf(ms: number): number {
  const us = ms * 1000;
  if (!(us >= 1)) return 0; // below 1 µs, and NaN
  scratch[0] = us;
  return Math.min(OVERFLOW, 1 + ((high[0] as number) >>> 17) - ONE_US);
}

/** The geometric middle of an octave bucket, in ms. */
function middleOf(bucket: number): number {
  const octave = Math.floor((bucket - 1) / PER_OCTAVE);
  const eighth = (bucket - 1) % PER_OCTAVE;
  return (2 ** octave * Math.sqrt((8 + eighth) * (9 + eighth))) / 8 / 1000;
}

export class Quantiles {
  /** A plain array, grown as needed: most series (one routine within one job) stay small. */
  #samples: number[] | undefined = [];
  #buckets: Float64Array | Uint32Array | undefined;

  /**
   * `compact`: count in 32 bits (1.3 KB, for one job's series) rather than exactly up to 2^53 (2.6 KB, for the
   * runtime's, which may count for months).
   */
  constructor(private readonly compact = false) {}

  add(ms: number): void {
    const buckets = this.#buckets;
    if (buckets) {
      const i = bucketOf(ms);
      buckets[i] = (buckets[i] as number) + 1;
      return;
    }
    const samples = this.#samples as number[]; // present until the histogram takes over
    if (samples.length < EXACT) {
      samples.push(ms);
      return;
    }
    const moved = (this.#buckets = this.compact ? new Uint32Array(BUCKETS) : new Float64Array(BUCKETS));
    for (const value of samples) moved[bucketOf(value)] = (moved[bucketOf(value)] as number) + 1;
    moved[bucketOf(ms)] = (moved[bucketOf(ms)] as number) + 1;
    this.#samples = undefined;
  }

  /**
   * The nearest-rank quantiles `qs` (each in (0, 1]) of `count` values whose exact `min` and `max` are known
   * (a histogram estimate is clamped to them).
   */
  read(qs: readonly number[], count: number, min: number, max: number): number[] {
    if (count === 0) return qs.map(() => 0);
    const buckets = this.#buckets;
    if (!buckets) {
      const sorted = [...(this.#samples ?? [])].sort((a, b) => a - b);
      return qs.map((q) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? min);
    }
    return qs.map((q) => {
      const rank = Math.max(1, Math.ceil(q * count));
      let seen = 0;
      for (let i = 0; i < BUCKETS; i++) {
        seen += buckets[i] as number;
        if (seen >= rank) return Math.min(max, Math.max(min, i === 0 ? 0 : i === OVERFLOW ? max : middleOf(i)));
      }
      return max;
    });
  }
}
