/**
 * assertSlot: the check for data posted from outside a job, where the compiler could not see the names.
 */
import { UnknownSlotError } from '../errors/index.js';
import type { FlowDefinition, RoutineInstance } from './FlowDefinition.js';

/** Throws `UnknownSlotError` unless `flow` has routine `routineId` with slot `slot`; returns the routine instance. */
export function assertSlot(flow: FlowDefinition, routineId: string, slot: string): RoutineInstance {
  const inst = flow.routines.get(routineId);
  if (!inst) throw new UnknownSlotError(flow.id, routineId, slot, [...flow.routines.keys()], 'routine');
  if (!inst.routine.slotNames.includes(slot)) throw new UnknownSlotError(flow.id, routineId, slot, inst.routine.slotNames);
  return inst;
}
