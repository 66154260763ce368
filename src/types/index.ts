/**
 * The public types of a job: its state, events, status, and the options that shape one run. Only types and the
 * status helpers live here; none of the engine does.
 */
export type { Breakpoint } from './Breakpoint.js';
export type { JobEvent, JobEventType, JobWarningCode } from './JobEvent.js';
export type { CycleRecord, HistoryRecord, JobState, RoutineState, TypedOutputs } from './JobState.js';
export { JOB_STATUSES, isFinalStatus, type FinalStatus, type JobStatus } from './JobStatus.js';
export type { Overrides, RoutineOverride } from './Overrides.js';
export type { Payload } from './Payload.js';
export type { ProgressUpdate } from './ProgressUpdate.js';
export type { ValidationMode } from './ValidationMode.js';
