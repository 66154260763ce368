/**
 * breakpointRoutines: checks `exec({ breakpoints })` against the flow and gives the routine ids to pause before.
 */
import { InvalidOptionError, UnknownSlotError } from '../../errors/index.js';
import type { FlowDefinition } from '../../flow/index.js';

/** The routine ids of `breakpoints`, checked against the flow: `InvalidOptionError` or `UnknownSlotError` (routine). */
export function breakpointRoutines(flow: FlowDefinition, where: string, breakpoints: unknown): Set<string> {
  if (!Array.isArray(breakpoints)) throw new InvalidOptionError(where, 'an array of { routine } objects', breakpoints);
  const routines = new Set<string>();
  breakpoints.forEach((breakpoint: unknown, i) => {
    const at = `${where}[${i}]`;
    if (typeof breakpoint !== 'object' || breakpoint === null || Array.isArray(breakpoint)) throw new InvalidOptionError(at, "an object like { routine: 'id' }", breakpoint);
    for (const key of Object.keys(breakpoint)) if (key !== 'routine') throw new InvalidOptionError(`${at}.${key}`, "a known key (only 'routine')", (breakpoint as Record<string, unknown>)[key]);
    const routine = (breakpoint as { routine?: unknown }).routine;
    if (typeof routine !== 'string') throw new InvalidOptionError(`${at}.routine`, 'a routine id (string)', routine);
    if (!flow.routines.has(routine)) throw new UnknownSlotError(flow.id, routine, '', [...flow.routines.keys()], 'routine');
    routines.add(routine);
  });
  return routines;
}
