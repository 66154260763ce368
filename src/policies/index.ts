export { policies, isBuiltInPolicy, type CustomPolicyOptions } from './policies.js';
export type { ActivationPolicy, PolicyContext, PolicyMessage, QueuesView } from './ActivationPolicy.js';
// Internal (not exported from 'slotflow'): which policy functions need a context.
export { readsContext } from './ActivationPolicy.js';
