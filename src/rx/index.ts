/**
 * slotflow/rx: RxJS operators and Observables over slotflow jobs.
 *
 * Everything here imports the core through the public `slotflow` entry, so it shares the application's runtime.
 */
export { runFlow, type FlowRef, type RunFlowOptions } from './runFlow.js';
export { throwIfFailed } from './throwIfFailed.js';
export { fromJob, isJobEndEvent, type JobEndEvent } from './fromJob.js';
export { jobStates } from './jobStates.js';
export { feed } from './feed.js';
export { ofType, type JobEventOf } from './ofType.js';
