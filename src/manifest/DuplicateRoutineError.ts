/**
 * DuplicateRoutineError: a routine registry was given a second, different definition under a name it holds.
 */
import { SlotflowError } from 'slotflow';

/** Two different routine definitions share a `name`; a registry (and a manifest's `type`) needs names unique. */
export class DuplicateRoutineError extends SlotflowError {
  readonly code = 'DUPLICATE_ROUTINE';
  constructor(readonly routineName: string) {
    super(`A different routine definition named '${routineName}' is already registered; routine names must be unique in a registry.`);
  }
}

export const isDuplicateRoutineError = (value: unknown): value is DuplicateRoutineError => value instanceof DuplicateRoutineError;
