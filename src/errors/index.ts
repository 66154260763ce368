export * from './SlotflowError.js';
export * from './errors.js';
export * from './resourceErrors.js';
