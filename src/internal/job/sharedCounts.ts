/**
 * sharedCounts: the counts a history record keeps (slot -> payloads consumed, event -> payloads emitted) are the
 * same from one activation of a routine to the next in most flows ({ in: 1 } and { out: 1 } in a chain). Every
 * record whose counts equal those of the routine's last record shares that record's frozen copy, across jobs, rather
 * than keeping the activation's own two objects: a finished job, which the runtime retains by the thousand, then
 * holds no counts objects of its own in the common case (~112 B per activation less to carry through garbage
 * collection). The copies are frozen (they are shared; `JobState` is immutable) and, like the originals, made with
 * `dict()`, so an event named like an `Object.prototype` member reads as it did.
 */
import type { RoutineInstance } from '../../flow/index.js';
import { dict } from '../../util/dict.js';

type Counts = Readonly<Record<string, number>>;

/** Per routine instance: the shared copies of its last consumed and emitted counts. */
const last = new WeakMap<RoutineInstance, { consumed: Counts; emitted: Counts }>();

/** True when `a` and `b` have the same keys with the same counts. */
function sameCounts(a: Counts, b: Counts): boolean {
  let keys = 0;
  for (const key in b) {
    if (a[key] !== b[key]) return false;
    keys++;
  }
  for (const _ in a) keys--;
  return keys === 0;
}

function frozenCopy(counts: Counts): Counts {
  const copy = dict<number>();
  for (const key in counts) copy[key] = counts[key] as number;
  return Object.freeze(copy);
}

/** The shared copies for a record of `inst` with these counts (new ones when they differ from the last record's). */
export function sharedCounts(inst: RoutineInstance, consumed: Counts, emitted: Counts): { readonly consumed: Counts; readonly emitted: Counts } {
  let shared = last.get(inst);
  if (!shared) last.set(inst, (shared = { consumed: frozenCopy(consumed), emitted: frozenCopy(emitted) }));
  else {
    if (!sameCounts(shared.consumed, consumed)) shared.consumed = frozenCopy(consumed);
    if (!sameCounts(shared.emitted, emitted)) shared.emitted = frozenCopy(emitted);
  }
  return shared;
}
