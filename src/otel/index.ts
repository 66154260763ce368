/**
 * slotflow/otel: OpenTelemetry tracing of jobs and activations, through `@opentelemetry/api` (an optional peer
 * dependency: only this subpath imports it, so an application that does not trace never loads it).
 *
 * Everything here imports the core through the public `slotflow` entry, so it shares the application's runtime.
 */
export { instrument, type InstrumentOptions, type Instrumentation, type JobRef } from './instrument.js';
