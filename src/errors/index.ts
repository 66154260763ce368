export * from './SlotflowError.js';
export * from './errors.js';
export * from './WorkerCrashedError.js';
export * from './ResourceLimitError.js';
export * from './resourceErrors.js';
export * from './SubflowError.js';
