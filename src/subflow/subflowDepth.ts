/**
 * How deep a flow nests subflows, and the runtime's bound on it (`createRuntime({ maxSubflowDepth })`).
 */
import { FlowValidationError } from '../errors/index.js';
import type { FlowDefinition } from '../flow/FlowDefinition.js';
import { subflowOf } from './subflowOf.js';

/** The default of `maxSubflowDepth`. */
export const DEFAULT_MAX_SUBFLOW_DEPTH = 8;

const depths = new WeakMap<FlowDefinition, { depth: number; path: string[] }>();

/**
 * 0 for a flow without subflows, else 1 + the deepest of its subflows, with the routine path to the deepest one.
 * Finite: compiled flows cannot contain themselves (validation refuses it).
 */
export function subflowDepth(flow: FlowDefinition): { readonly depth: number; readonly path: readonly string[] } {
  const known = depths.get(flow);
  if (known) return known;
  let deepest = { depth: 0, path: [] as string[] };
  for (const inst of flow.routines.values()) {
    const sub = subflowOf(inst.routine);
    if (!sub) continue;
    const inner = subflowDepth(sub.flow);
    if (inner.depth + 1 > deepest.depth) deepest = { depth: inner.depth + 1, path: [`${inst.id} (flow '${sub.flow.id}')`, ...inner.path] };
  }
  depths.set(flow, deepest);
  return deepest;
}

/** Throws `FlowValidationError` when `flow` nests subflows deeper than `max`. */
export function assertSubflowDepth(flow: FlowDefinition, max: number): void {
  const { depth, path } = subflowDepth(flow);
  if (depth <= max) return;
  throw new FlowValidationError(flow.id, [
    { path: 'routines', message: `subflows nest ${depth} deep (${path.join(' -> ')}), past the runtime's maxSubflowDepth (${max}); flatten a level or raise createRuntime({ maxSubflowDepth })` },
  ]);
}
