/**
 * What the activation runner (`runActivation`, the run context, progress and cleanups) reads and asks of its job.
 */
import type { RoutineMachineEvent } from '../../../machines/index.js';
import type { FlowDefinition } from '../../flow/index.js';
import type { JobEvent } from '../../types/JobEvent.js';
import type { HistoryRecord, JobStatus } from '../../types/JobState.js';
import type { RuntimeServices } from './RuntimeServices.js';
import type { MeteredJob } from '../../metrics/index.js';
import type { Payload } from '../../routine/index.js';
import type { Activation } from './Activation.js';
import type { RoutineCell } from './RoutineCell.js';

export interface ActivationJob extends MeteredJob {
  readonly id: string;
  readonly flowId: string;
  readonly flow: FlowDefinition;
  readonly cells: ReadonlyMap<string, RoutineCell>;
  /** `ctx.job`: one frozen object per job. */
  readonly handleInfo: { readonly id: string; readonly flowId: string };
  readonly status: JobStatus;
  readonly finished: boolean;
  readonly wantsEvents: boolean;
  readonly services: RuntimeServices;
  readonly data: {
    readonly shared: Readonly<Record<string, unknown>>;
    setShared(value: Readonly<Record<string, unknown>>): void;
    appendLog(entry: unknown): void;
    addHistory(cell: RoutineCell, act: Activation, finishedAt: number, outcome: HistoryRecord['outcome'], error: Error | undefined): void;
    touch(): void;
  };
  publish(event: JobEvent): void;
  /** Routes an emission; returns why a delivery failed (the activation then fails). */
  emitted(routineId: string, event: string, payload: Payload): Error | undefined;
  /** Reports the outcome to the routine actor. */
  sendRoutine(cell: RoutineCell, event: RoutineMachineEvent): void;
  /** The policy itself failed and its strategy goes on (`continue`, or `retry` after `retryDelayMs`). */
  policyFailed(cell: RoutineCell, retryDelayMs: number | undefined): void;
  fail(error: Error): void;
}
