/**
 * slotflow: an actor-based concurrent runtime for flows of routines.
 */

// Routines and their policies
export { defineRoutine, isRoutineDefinition, slot, event, DEFAULT_MAX_QUEUE } from './routine/index.js';
export type {
  AnyRoutine,
  CleanupContext,
  ErrorStrategy,
  EventsOf,
  Payload,
  RetryOptions,
  RoutineDefinition,
  RoutineOptions,
  RunContext,
  SlotsOf,
  StandardSchemaV1,
  Trigger,
  TypeMarker,
  Updater,
} from './routine/index.js';
export { policies, type ActivationPolicy, type CustomPolicyOptions, type PolicyContext, type PolicyMessage, type QueuesView } from './policies/index.js';

// Flows
export { createFlow, isFlow, type AddOptions, type ConnectOptions, type CycleContext, type EventRef, type FlowBuilder, type FlowDefinition, type RoutineMap, type SlotRef } from './flow/index.js';
export { toMermaid, toManifest, expressionSourceOf } from './flow/index.js';
export type { ConnectionManifest, ErrorStrategyManifest, FlowManifest, PolicyManifest, RoutineManifest, SubflowManifest } from './flow/index.js';
export { asRoutine, subflowInfo, DEFAULT_MAX_SUBFLOW_DEPTH, type AsRoutineOptions, type SubflowInfo, type SubflowRoutine } from './subflow/index.js';

// Runtime and jobs
export { createRuntime, Runtime, type ExecOptions, type JobOf, type ParamsOf, type RuntimeOptions, type UnhandledErrorHandler, type UnhandledErrorInfo } from './runtime/index.js';
export type { ResourceDefinition, ResourceMetrics, ResourcesOption, ResourceTypes } from './runtime/index.js';
export type { OnlySlotPayload, OutputsOf } from './flow/typedEdges.js';
export { Job } from './job/index.js';
export { isFinalStatus, type Breakpoint, type CycleRecord, type FinalStatus, type HistoryRecord, type JobEvent, type JobEventType, type JobState, type JobStatus, type JobWarningCode, type Overrides, type ProgressUpdate, type RoutineOverride, type RoutineState, type TypedOutputs, type ValidationMode } from './types/index.js';
export { systemClock, type Clock, type TimerHandle } from './clock/index.js';

// Threads
export type { Isolation, ThreadResourceLimits, ThreadsOptions } from './threads/index.js';

// Persistence
export { createFileStore, createMemoryStore, parseSnapshot, type FileStore, type FileStoreOptions, SNAPSHOT_FORMAT, type MemoryStore, SNAPSHOT_VERSION, type CheckpointStore, type HistorySnapshot, type JobSnapshot, type OverrideSnapshot, type RoutineMachineState, type RoutineSnapshot, type SerializedError } from './persistence/index.js';

// Metrics
export type { ActivationTotals, DurationStats, FlowMetrics, JobCounts, JobMetrics, MetricsOptions, RoutineMetrics, RuntimeMetrics } from './metrics/index.js';

// Errors: the classes and their guards (the message helpers they use stay internal)
export {
  ActivationEndedError,
  ActivationTimeoutError,
  CheckpointError,
  ConnectionError,
  CycleExhaustedError,
  FlowNotFoundError,
  FlowValidationError,
  InvalidOptionError,
  JobCancelledError,
  JobFinishedError,
  JobTimeoutError,
  ManifestError,
  NonErrorThrownError,
  PayloadError,
  ResourceError,
  ResourceLimitError,
  RoutineDefinitionError,
  RoutineError,
  RuntimeClosedError,
  SlotQueueFullError,
  SlotflowError,
  SnapshotError,
  SubflowError,
  ThreadResourceError,
  UnknownEventError,
  UnknownResourceError,
  UnknownSlotError,
  WaitTimeoutError,
  WorkerCrashedError,
  isActivationEndedError,
  isActivationTimeoutError,
  isCheckpointError,
  isConnectionError,
  isCycleExhaustedError,
  isFlowNotFoundError,
  isFlowValidationError,
  isInvalidOptionError,
  isJobCancelledError,
  isJobFinishedError,
  isJobTimeoutError,
  isManifestError,
  isNonErrorThrownError,
  isPayloadError,
  isResourceError,
  isResourceLimitError,
  isRoutineDefinitionError,
  isRoutineError,
  isRuntimeClosedError,
  isSlotQueueFullError,
  isSlotflowError,
  isSnapshotError,
  isSubflowError,
  isThreadResourceError,
  isUnknownEventError,
  isUnknownResourceError,
  isUnknownSlotError,
  isWaitTimeoutError,
  isWorkerCrashedError,
} from './errors/index.js';
export type { FlowProblem, ManifestProblem, ResourceAsker, SnapshotProblem } from './errors/index.js';
