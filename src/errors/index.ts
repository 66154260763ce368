export * from './SlotflowError.js';
export * from './errors.js';
