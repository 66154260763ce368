/**
 * slotflow/distributed: jobs on BullMQ workers across processes and machines, checkpointed into Redis.
 */
export { createWorker, type DistributedWorker, type WorkerOptions, type WorkerStats } from './createWorker.js';
export { createDistributedRuntime, type DistributedExecOptions, type DistributedRuntime, type DistributedRuntimeOptions, type JobSummary } from './createDistributedRuntime.js';
export { DistributedJob } from './DistributedJob.js';
export { JobNotFoundError } from './JobNotFoundError.js';
export { JobStalledError } from './JobStalledError.js';
export type { RedisConnection } from './connections.js';
export type { RemoteJobEvent, RemoteJobState } from './wire.js';
export { ConnectionError } from 'slotflow';
