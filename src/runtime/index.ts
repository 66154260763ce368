export { createRuntime, Runtime, type ExecOptions, type JobOf, type ParamsOf, type RuntimeOptions } from './createRuntime.js';
export type { UnhandledErrorHandler, UnhandledErrorInfo } from './EventBus.js';
export type { ResourceDefinition, ResourceMetrics, ResourcesOption, ResourceTypes } from './Resources.js';
