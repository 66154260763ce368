/**
 * moduleProblem: a threaded routine's module does not export its routine. Found before the thread runs or by the
 * thread itself; either way the flow is invalid, so the job fails with it.
 */
import { FlowValidationError } from '../errors/index.js';
import type { ThreadTarget } from './ThreadTarget.js';

/** Fails the job (through `failJob`) with a `FlowValidationError` naming the routine's module; returns that error. */
export function moduleProblem(target: ThreadTarget, message: string, failJob: (error: Error) => void): FlowValidationError {
  const error = new FlowValidationError(target.flowId, [{ path: `routines.${target.routineId}.module`, message: `routine '${target.routineId}' (definition '${target.name}') runs in a thread, but ${message}` }]);
  failJob(error);
  return error;
}
