/**
 * slotflow/manifest: flows as data. `loadFlow` builds a flow from a YAML or JSON manifest whose routines are named
 * by type in a routine registry; `until` guards are small safe expressions; the JSON Schema of manifests is
 * generated from the same schema that validates them.
 */
export { loadFlow, type LoadFlowOptions } from './loadFlow.js';
export { createRoutineRegistry, type RoutineRegistry } from './createRoutineRegistry.js';
export { DuplicateRoutineError, isDuplicateRoutineError } from './DuplicateRoutineError.js';
export { compileExpression, type Expression } from './compileExpression.js';
export { manifestJsonSchema } from './manifestSchema.js';
export type { ConnectionManifest, ErrorStrategyManifest, FlowManifest, ManifestProblem, PolicyManifest, RoutineManifest } from 'slotflow';
export { ManifestError, isManifestError } from 'slotflow';
