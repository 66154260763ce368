export { defineRoutine, isRoutineDefinition, DEFAULT_MAX_QUEUE } from './defineRoutine.js';
export { slot, event, isTypeMarker, type TypeMarker } from './markers.js';
export type { StandardSchemaV1 } from './StandardSchema.js';
export { isStandardSchema } from './StandardSchema.js';
export type { ErrorStrategy, RetryOptions, FailureDecision } from './ErrorStrategy.js';
export { assertErrorStrategy } from './assertErrorStrategy.js';
export type {
  AnyRoutine,
  CleanupContext,
  ConfigOfRoutine,
  EventsInput,
  EventsOf,
  EventsOfRoutine,
  Payload,
  RoutineDefinition,
  RoutineOptions,
  RunContext,
  SlotsInput,
  SlotsOf,
  SlotsOfRoutine,
  Trigger,
  Updater,
} from './RoutineDefinition.js';
