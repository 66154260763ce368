export { assertSlot } from './assertSlot.js';
export { createFlow, isFlow, compileFlow, type AddOptions, type FlowBuilder } from './createFlow.js';
export type { ConnectOptions, Connection, CycleContext, FlowDefinition, RoutineInstance } from './FlowDefinition.js';
export type { EventPayloadOf, EventRef, RoutineMap, SlotPayloadOf, SlotRef } from './types.js';
export { expressionSourceOf } from './expressionSource.js';
export type { ConnectionManifest, ErrorStrategyManifest, FlowManifest, PolicyManifest, RoutineManifest, SubflowManifest } from './FlowManifest.js';
export { toManifest } from './toManifest.js';
export { toMermaid } from './toMermaid.js';
