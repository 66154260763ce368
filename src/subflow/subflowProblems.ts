/**
 * subflowProblems: a flow must not contain itself through its subflows (`asRoutine`), directly or through another
 * subflow: its jobs would start children of their own flow without end. Flows are told apart by id, as the runtime
 * registers them (two different flows under one id could not both run in one runtime either).
 */
import type { FlowProblem } from '../errors/index.js';
import type { FlowDefinition, RoutineInstance } from '../flow/FlowDefinition.js';
import { subflowOf } from './subflowOf.js';

export function subflowProblems(flow: { readonly id: string; readonly routines: ReadonlyMap<string, RoutineInstance> }): FlowProblem[] {
  const problems: FlowProblem[] = [];
  for (const inst of flow.routines.values()) {
    const sub = subflowOf(inst.routine);
    if (!sub) continue;
    const path = pathTo(sub.flow, flow.id, new Set());
    if (path) problems.push({ path: `routines.${inst.id}`, message: `subflow '${inst.id}' contains flow '${flow.id}' itself (${[flow.id, ...path].join(' -> ')}); a flow cannot run inside its own jobs` });
  }
  return problems;
}

/** The flow ids from `flow` down to a subflow with id `target` (`flow` itself included), or `undefined`. */
function pathTo(flow: FlowDefinition, target: string, seen: Set<FlowDefinition>): string[] | undefined {
  if (flow.id === target) return [flow.id];
  if (seen.has(flow)) return undefined;
  seen.add(flow);
  for (const inst of flow.routines.values()) {
    const sub = subflowOf(inst.routine);
    const below = sub && pathTo(sub.flow, target, seen);
    if (below) return [flow.id, ...below];
  }
  return undefined;
}
