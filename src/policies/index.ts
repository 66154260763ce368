export { policies, isBuiltInPolicy, type CustomPolicyOptions } from './policies.js';
export type { ActivationPolicy, PolicyContext, PolicyMessage, QueuesView } from './ActivationPolicy.js';
