export { Job } from './Job.js';
export { JobRunner, type JobOptions } from './JobRunner.js';
export type { JobEvent, JobEventType, JobWarningCode } from './JobEvent.js';
export { isFinalStatus, type CycleRecord, type FinalStatus, type HistoryRecord, type JobState, type JobStatus, type RoutineState } from './JobState.js';
export type { RuntimeServices, ValidationMode } from './RuntimeServices.js';
export { ActorPool } from './ActorPool.js';
export { breakpointRoutines, type Breakpoint } from './Breakpoint.js';
