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
export { toMermaid, toManifest, setExpressionSource, expressionSourceOf } from './flow/index.js';
export type { ConnectionManifest, ErrorStrategyManifest, FlowManifest, PolicyManifest, RoutineManifest, SubflowManifest } from './flow/index.js';
export { asRoutine, subflowInfo, DEFAULT_MAX_SUBFLOW_DEPTH, type AsRoutineOptions, type SubflowInfo, type SubflowRoutine } from './subflow/index.js';

// Runtime and jobs
export { createRuntime, Runtime, type ExecOptions, type JobOf, type ParamsOf, type RuntimeOptions, type UnhandledErrorHandler, type UnhandledErrorInfo } from './runtime/index.js';
export type { ResourceDefinition, ResourceMetrics, ResourcesOption, ResourceTypes } from './runtime/index.js';
export type { ProgressUpdate } from './job/progress.js';
export type { OverrideSnapshot, Overrides, RoutineOverride } from './job/overrides.js';
export type { OnlySlotPayload, OutputsOf } from './flow/typedEdges.js';
export type { TypedOutputs } from './job/JobState.js';
export { isFinalStatus, Job, type Breakpoint, type FinalStatus, type CycleRecord, type HistoryRecord, type JobEvent, type JobEventType, type JobWarningCode, type JobState, type JobStatus, type RoutineState, type ValidationMode } from './job/index.js';
export { systemClock, type Clock, type TimerHandle } from './clock/index.js';

// Threads
export type { Isolation, ThreadResourceLimits, ThreadsOptions } from './threads/index.js';

// Persistence
export { createFileStore, createMemoryStore, parseSnapshot, type FileStore, type FileStoreOptions, SNAPSHOT_FORMAT, type MemoryStore, SNAPSHOT_VERSION, type CheckpointStore, type HistorySnapshot, type JobSnapshot, type RoutineMachineState, type RoutineSnapshot, type SerializedError } from './persistence/index.js';

// Metrics
export type { ActivationTotals, DurationStats, FlowMetrics, JobCounts, JobMetrics, MetricsOptions, RoutineMetrics, RuntimeMetrics } from './metrics/index.js';

// Errors
export * from './errors/index.js';
