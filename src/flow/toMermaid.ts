/**
 * toMermaid: a flow drawn as a Mermaid `flowchart`. One node per routine (its id, routine type, slots, events and
 * policy), one edge per connection labelled `event -> slot`, cycle edges dotted with their bound and `until`, and a
 * stadium-shaped `entry` node pointing at the entry routine with the entry slot.
 */
import { isBuiltInPolicy, type ActivationPolicy } from '../policies/index.js';
import type { FlowBuilder } from './FlowBuilder.js';
import { expressionSourceOf } from './expressionSource.js';
import type { Connection, FlowDefinition } from './FlowDefinition.js';
import type { FlowGraph } from './toManifest.js';
import type { RoutineMap } from './types.js';
import { subflowOf, type Subflow } from '../subflow/subflowOf.js';

/**
 * The Mermaid `flowchart` of a flow (a builder, even an invalid one, or a compiled flow).
 * @example
 * console.log(toMermaid(flow)); // paste into https://mermaid.live or a ```mermaid block
 */
export function toMermaid(flow: FlowBuilder<RoutineMap> | FlowDefinition): string {
  return 'toMermaid' in flow ? flow.toMermaid() : mermaidOf(flow);
}

/** Words Mermaid reads as syntax, which cannot name a node (compared in lower case). */
const RESERVED = new Set(['end', 'graph', 'subgraph', 'flowchart', 'style', 'classdef', 'class', 'click', 'linkstyle', 'direction', 'default', 'call', 'href', 'interpolate', 'acctitle', 'accdescr', 'entry']);
const ENTRY_NODE = 'entry';

/** The Mermaid text of a flow graph. */
export function mermaidOf(flow: FlowGraph): string {
  const nodeIds = nodeIdsOf(flow);
  const node = (routineId: string) => nodeIds.get(routineId) ?? ENTRY_NODE;
  const lines = ['---', `title: ${JSON.stringify(flow.id)}`, '---', 'flowchart LR'];
  if (flow.entry) lines.push(`  ${ENTRY_NODE}(["entry"])`);
  body(flow, node, '  ', lines);
  if (flow.entry) lines.push(`  ${ENTRY_NODE} -->|"${escapeLabel(flow.entry.slot)}"| ${node(flow.entry.routine)}`);
  for (const c of flow.connections) lines.push(`  ${node(c.from.routine)} ${c.bound ? '-.->' : '-->'}|"${edgeLabel(c)}"| ${node(c.to.routine)}`);
  return lines.join('\n');
}

/**
 * One node per routine; a subflow routine (`asRoutine`) also gets its child flow drawn as a nested `subgraph`, its
 * nodes named `<routine node>__<child node>`, with dotted edges from the routine to the child slots it delivers to
 * and from the child events it re-emits.
 */
function body(flow: FlowGraph, node: (routineId: string) => string, indent: string, lines: string[]): void {
  for (const [id, inst] of flow.routines) {
    const events = inst.routine.eventNames;
    const sub = subflowOf(inst.routine);
    const label = [`${id}: ${inst.routine.name}`, `slots: ${inst.routine.slotNames.join(', ')}`, `events: ${events.length ? events.join(', ') : '(none)'}`, `policy: ${describePolicy(inst.policy)}`];
    if (sub) label.push(`subflow: ${sub.flow.id}`);
    lines.push(`${indent}${node(id)}["${label.map(escapeLabel).join('<br/>')}"]`);
    if (sub) subgraph(node(id), sub, indent, lines);
  }
  for (const id of nodeIdsOf(flow).keys())
    if (!flow.routines.has(id)) lines.push(`${indent}${node(id)}["${escapeLabel(`${id}: unknown routine`)}"]`);
}

function subgraph(parent: string, sub: Subflow, indent: string, lines: string[]): void {
  const childIds = nodeIdsOf(sub.flow);
  const child = (routineId: string) => `${parent}__${childIds.get(routineId) ?? routineId}`;
  lines.push(`${indent}subgraph ${parent}__flow["${escapeLabel(`${sub.flow.id} (subflow of ${parent})`)}"]`, `${indent}  direction LR`);
  body(sub.flow, child, `${indent}  `, lines);
  for (const c of sub.flow.connections) lines.push(`${indent}  ${child(c.from.routine)} ${c.bound ? '-.->' : '-->'}|"${edgeLabel(c)}"| ${child(c.to.routine)}`);
  lines.push(`${indent}end`);
  for (const [slot, ref] of sub.slots) lines.push(`${indent}${parent} -.->|"${escapeLabel(`${slot} -> ${ref.routine}.${ref.name}`)}"| ${child(ref.routine)}`);
  for (const [source, events] of sub.events) {
    const routine = source.slice(0, source.indexOf('.'));
    lines.push(`${indent}${child(routine)} -.->|"${escapeLabel(`${source.slice(routine.length + 1)} -> ${events.join(', ')}`)}"| ${parent}`);
  }
}

function edgeLabel(c: Connection): string {
  const parts = [`${c.from.event} -> ${c.to.slot}`];
  if (c.bound) {
    parts.push(`max ${c.bound.maxIterations}`);
    if (c.bound.until) parts.push(`until ${expressionSourceOf(c.bound.until) ?? '(function)'}`);
    if (c.bound.onExhausted === 'fail') parts.push('fails when exhausted');
  }
  return parts.map(escapeLabel).join('<br/>');
}

/** `immediate`, `batch(n: 10, slots: [a, b])`, `myPolicy (custom)`. */
function describePolicy(policy: ActivationPolicy): string {
  if (!isBuiltInPolicy(policy)) return `${policy.name} (custom)`;
  const params = Object.entries(policy.params).map(([key, value]) => `${key}: ${Array.isArray(value) ? `[${value.map(String).join(', ')}]` : String(value)}`);
  return params.length ? `${policy.name}(${params.join(', ')})` : policy.name;
}

/**
 * Node ids: a routine id that is a plain identifier and no Mermaid keyword stands for itself; any other gets a
 * fresh `node_<n>`. Routines that connections or the entry name but the flow lacks (a builder still being written)
 * get nodes too.
 */
function nodeIdsOf(flow: FlowGraph): Map<string, string> {
  const ids = new Set(flow.routines.keys());
  for (const c of flow.connections) ids.add(c.from.routine).add(c.to.routine);
  if (flow.entry) ids.add(flow.entry.routine);
  const taken = new Set<string>([ENTRY_NODE]);
  const out = new Map<string, string>();
  const unsafe: string[] = [];
  for (const id of ids) {
    if (/^[A-Za-z][A-Za-z0-9_]*$/.test(id) && !RESERVED.has(id.toLowerCase())) {
      out.set(id, id);
      taken.add(id);
    } else unsafe.push(id);
  }
  let n = 0;
  for (const id of unsafe) {
    while (taken.has(`node_${n}`)) n++;
    out.set(id, `node_${n}`);
    taken.add(`node_${n}`);
  }
  return new Map([...ids].map((id) => [id, out.get(id) as string]));
}

const ENTITIES: Readonly<Record<string, string>> = { '"': '#quot;', '#': '#35;', '<': '#lt;', '&': '#amp;', '|': '#124;', '`': '#96;', '\n': ' ', '\r': ' ' };

/** Text safe inside a quoted Mermaid label: quotes, entity starts, HTML and pipes become Mermaid entity codes. */
function escapeLabel(text: string): string {
  return text.replace(/["#<&|`\n\r]/g, (ch) => ENTITIES[ch] ?? ch);
}
