/**
 * Flow validation: every problem at once, each with its path, so one run of `validate()` shows them all.
 */
import type { FlowProblem } from '../errors/index.js';
import type { Connection, RoutineInstance } from './FlowDefinition.js';
import { subflowProblems } from '../subflow/subflowProblems.js';

export interface FlowDraft {
  readonly id: string;
  readonly routines: ReadonlyMap<string, RoutineInstance>;
  readonly connections: readonly Connection[];
  readonly entry: { readonly routine: string; readonly slot: string } | undefined;
  /** Problems found while building (duplicate ids, bad options), kept until validation. */
  readonly early: readonly FlowProblem[];
}

export function validateFlow(flow: FlowDraft): FlowProblem[] {
  const problems: FlowProblem[] = [...flow.early];
  if (flow.routines.size === 0) problems.push({ path: 'routines', message: `flow '${flow.id}' has no routines; add one with flow.add(id, routine)` });

  const names = new Set<string>();
  flow.connections.forEach((c, i) => {
    const path = `connections[${i}]`;
    const from = flow.routines.get(c.from.routine);
    if (!from) problems.push({ path: `${path}.from`, message: `unknown routine '${c.from.routine}' in '${c.from.routine}.${c.from.event}'; expected one of ${ids(flow)}` });
    else if (!from.routine.eventNames.includes(c.from.event))
      problems.push({ path: `${path}.from`, message: `routine '${c.from.routine}' has no event '${c.from.event}'; expected one of ${quote(from.routine.eventNames)}` });
    const to = flow.routines.get(c.to.routine);
    if (!to) problems.push({ path: `${path}.to`, message: `unknown routine '${c.to.routine}' in '${c.to.routine}.${c.to.slot}'; expected one of ${ids(flow)}` });
    else if (!to.routine.slotNames.includes(c.to.slot))
      problems.push({ path: `${path}.to`, message: `routine '${c.to.routine}' has no slot '${c.to.slot}'; expected one of ${quote(to.routine.slotNames)}` });
    if (names.has(c.name)) problems.push({ path: `${path}.name`, message: `connection name '${c.name}' is used twice; give one of them a distinct \`name\`` });
    names.add(c.name);
  });

  if (!flow.entry) {
    if (flow.routines.size > 0) problems.push({ path: 'entry', message: 'no entry: call flow.entry(routineId, slot)' });
  } else {
    const entry = flow.routines.get(flow.entry.routine);
    if (!entry) problems.push({ path: 'entry', message: `unknown entry routine '${flow.entry.routine}'; expected one of ${ids(flow)}` });
    else if (!entry.routine.slotNames.includes(flow.entry.slot))
      problems.push({ path: 'entry', message: `entry routine '${flow.entry.routine}' has no slot '${flow.entry.slot}'; expected one of ${quote(entry.routine.slotNames)}` });
  }

  const graph = flow.connections.map((c) => ({ ...c, bounded: c.bound !== undefined }));
  for (const cycle of unboundedCycles(new Set(flow.routines.keys()), graph)) problems.push({ path: `connections[${cycle.closing.index}]`, message: cycleMessage(cycle) });
  problems.push(...subflowProblems(flow));
  return problems;
}

/** The edge of the graph the cycle search needs. */
export interface GraphEdge {
  readonly index: number;
  readonly name: string;
  readonly from: { readonly routine: string };
  readonly to: { readonly routine: string };
  readonly bounded: boolean;
}

/** How an unbounded cycle is reported (by `flow.validate()` and by manifests that cannot be built). */
export function cycleMessage(cycle: { readonly closing: GraphEdge; readonly path: readonly string[] }): string {
  return `connection '${cycle.closing.name}' closes an unbounded cycle (${cycle.path.join(' -> ')}); give an edge of the cycle \`maxIterations\` (and an \`until\` convergence guard)`;
}

/**
 * Cycles that contain no bounded edge. Bounded edges are guarded transitions, so they cannot loop forever; what
 * remains must be acyclic. Reports one closing edge per cycle found by depth-first search, in insertion order.
 */
export function unboundedCycles<E extends GraphEdge>(routines: ReadonlySet<string>, connections: readonly E[]): { closing: E; path: string[] }[] {
  const out = new Map<string, E[]>();
  for (const c of connections) {
    if (c.bounded || !routines.has(c.from.routine) || !routines.has(c.to.routine)) continue;
    const list = out.get(c.from.routine) ?? [];
    list.push(c);
    out.set(c.from.routine, list);
  }
  const found: { closing: E; path: string[] }[] = [];
  const state = new Map<string, 'open' | 'done'>();
  // Iterative: a chain of thousands of routines must not overflow the call stack. Each frame is a node and the
  // index of its next outgoing edge; `path` mirrors the frames' nodes for the cycle's description.
  const frames: { node: string; edges: readonly E[]; next: number }[] = [];
  const path: string[] = [];
  const open = (node: string): void => {
    state.set(node, 'open');
    frames.push({ node, edges: out.get(node) ?? [], next: 0 });
    path.push(node);
  };
  for (const id of routines) {
    if (state.has(id)) continue;
    open(id);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as (typeof frames)[number];
      const c = frame.edges[frame.next++];
      if (c === undefined) {
        frames.pop();
        path.pop();
        state.set(frame.node, 'done');
        continue;
      }
      const target = c.to.routine;
      const s = state.get(target);
      if (s === 'open') found.push({ closing: c, path: [...path.slice(path.lastIndexOf(target)), target] });
      else if (s === undefined) open(target);
    }
  }
  return found;
}

const quote = (list: readonly string[]) => (list.length ? list.map((s) => `'${s}'`).join(', ') : '(none)');
const ids = (flow: FlowDraft) => quote([...flow.routines.keys()]);
