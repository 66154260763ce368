/**
 * subflowInfo: what a subflow routine (`asRoutine`) runs, as plain data, for tools that draw or describe flows.
 */
import type { FlowDefinition } from '../flow/FlowDefinition.js';
import { subflowOf } from './subflowOf.js';

export interface SubflowInfo {
  /** The child flow, compiled. */
  readonly flow: FlowDefinition;
  /** The routine's slot -> the child flow's `'<routine>.<slot>'` it delivers to. */
  readonly slots: Readonly<Record<string, string>>;
  /** The routine's event -> the child flow's `'<routine>.<event>'` it re-emits. */
  readonly events: Readonly<Record<string, string>>;
}

/** The subflow a routine definition runs (one made by `asRoutine`), or `undefined` for any other routine. */
export function subflowInfo(routine: unknown): SubflowInfo | undefined {
  const sub = subflowOf(routine);
  if (!sub) return undefined;
  const slots: Record<string, string> = {};
  for (const [slot, ref] of sub.slots) slots[slot] = `${ref.routine}.${ref.name}`;
  const events: Record<string, string> = {};
  for (const [source, targets] of sub.events) for (const event of targets) events[event] = source;
  return { flow: sub.flow, slots, events };
}
