export { Job } from './Job.js';
export type { JobEvent, JobEventType, JobWarningCode } from './JobEvent.js';
export { isFinalStatus, type CycleRecord, type FinalStatus, type HistoryRecord, type JobState, type JobStatus, type RoutineState } from './JobState.js';
export type { RuntimeServices, ValidationMode } from './RuntimeServices.js';
export { breakpointRoutines, type Breakpoint } from './Breakpoint.js';
// The engine behind a job (not exported by the package), for the runtime that runs jobs.
export { JobRunner } from '../internal/job/JobRunner.js';
export type { JobOptions } from '../internal/job/JobOptions.js';
export { ActorPool } from '../internal/job/ActorPool.js';
