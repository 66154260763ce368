/**
 * newJobId: a job's default id, a UUID version 7 (RFC 9562): the creation time in milliseconds, then a 32-bit
 * counter seeded at random each new millisecond and incremented within one (so ids increase in creation order,
 * also when the clock steps back: the counter's overflow moves the time on), then 42 random bits.
 *
 * The same layout the `uuid` package's `v7()` writes, built for the per-job path: random bytes come from a pool
 * refilled once per ~680 ids (`uuid` refills its 256-byte pool every 16 and copies 16 bytes into a new array per id),
 * and the string is written straight into one reused buffer, without a byte array per id or a `toLowerCase()` pass.
 */
import { randomFillSync } from 'node:crypto';

/** The id is written as Latin-1 bytes into one buffer and read out as a flat string (the form a Map key hashes fastest). */
const out = Buffer.alloc(36);
const DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** Random bytes; each id takes 6 (its random tail), and a new millisecond 4 more (the counter's seed). */
const pool = new Uint8Array(4096);
let taken = pool.length;

function randomAt(n: number): number {
  if (taken + n > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const at = taken;
  taken += n;
  return at;
}

/** The millisecond of the last id, and its counter. */
let lastMs = Number.NEGATIVE_INFINITY;
let seq = 0;

/** Writes `byte` as two hex digits at `at`; returns the next position. */
function hex(byte: number, at: number): number {
  out[at] = DIGITS[byte >>> 4] as number;
  out[at + 1] = DIGITS[byte & 0x0f] as number;
  return at + 2;
}

export function newJobId(): string {
  const now = Date.now();
  if (now > lastMs) {
    const at = randomAt(4);
    // 31 random bits: the first increments of a millisecond cannot overflow the counter.
    seq = (((pool[at] as number) & 0x7f) << 24) | ((pool[at + 1] as number) << 16) | ((pool[at + 2] as number) << 8) | (pool[at + 3] as number);
    lastMs = now;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  const ms = lastMs;
  const r = randomAt(6);
  let i = hex((ms / 0x10000000000) & 0xff, 0);
  i = hex((ms / 0x100000000) & 0xff, i);
  i = hex((ms / 0x1000000) & 0xff, i);
  i = hex((ms / 0x10000) & 0xff, i);
  out[i++] = 0x2d;
  i = hex((ms / 0x100) & 0xff, i);
  i = hex(ms & 0xff, i);
  out[i++] = 0x2d;
  i = hex(0x70 | ((seq >>> 28) & 0x0f), i);
  i = hex((seq >>> 20) & 0xff, i);
  out[i++] = 0x2d;
  i = hex(0x80 | ((seq >>> 14) & 0x3f), i);
  i = hex((seq >>> 6) & 0xff, i);
  out[i++] = 0x2d;
  i = hex(((seq << 2) & 0xff) | ((pool[r] as number) & 0x03), i);
  for (let k = 1; k < 6; k++) i = hex(pool[r + k] as number, i);
  return out.toString('latin1', 0, 36);
}
