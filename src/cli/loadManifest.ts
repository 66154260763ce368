/**
 * loadManifest: the flow of a manifest file, built with the routines of a `--routines` module, or sketched without
 * them (for `slotflow graph`).
 */
import { readFileSync } from 'node:fs';
import { defineRoutine, type AnyRoutine, type FlowBuilder, type RoutineMap } from 'slotflow';
import { createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { parse } from 'yaml';
import { CliError, messageOf } from './CliError.js';
import { loadRoutines } from './loadRoutines.js';

function readManifest(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read manifest '${path}': ${messageOf(error)}`, 1, { cause: error });
  }
}

/** Loads the routines module, then the manifest (throws `ManifestError` listing every problem). */
export async function loadManifestFlow(path: string, routinesModule: string): Promise<FlowBuilder<RoutineMap>> {
  const text = readManifest(path);
  const routines = createRoutineRegistry(await loadRoutines(routinesModule));
  return loadFlow(text, { routines, source: path });
}

/**
 * The manifest's flow without its routine definitions: each routine type gets a stand-in whose slots and events are
 * the ones the manifest names (connections, entry, policy slots). Enough to draw the graph; configs are not checked.
 */
export function sketchManifestFlow(path: string): FlowBuilder<RoutineMap> {
  const text = readManifest(path);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    // loadFlow reports the syntax error with its line and column.
    return loadFlow(text, { routines: createRoutineRegistry(), source: path });
  }
  const root = record(doc);
  const routines = record(root.routines);
  const typeOf = new Map<string, string>();
  const shape = new Map<string, { slots: Set<string>; events: Set<string> }>();
  const stripped: Record<string, unknown> = {};
  for (const [id, value] of Object.entries(routines)) {
    const { config: _config, ...rest } = record(value);
    stripped[id] = rest;
    if (typeof rest.type !== 'string' || rest.type === '') continue;
    typeOf.set(id, rest.type);
    if (!shape.has(rest.type)) shape.set(rest.type, { slots: new Set(), events: new Set() });
    const slots = record(rest.policy).slots;
    if (Array.isArray(slots)) for (const slot of slots) if (typeof slot === 'string') shape.get(rest.type)?.slots.add(slot);
  }
  const name = (ref: unknown, kind: 'slots' | 'events') => {
    if (typeof ref !== 'string') return;
    const [id = '', part] = ref.split('.');
    const type = typeOf.get(id);
    if (type !== undefined && part) shape.get(type)?.[kind].add(part);
  };
  if (Array.isArray(root.connections))
    for (const connection of root.connections as unknown[]) {
      name(record(connection).from, 'events');
      name(record(connection).to, 'slots');
    }
  const entry = record(root.entry);
  if (typeof entry.routine === 'string' && typeof entry.slot === 'string') name(`${entry.routine}.${entry.slot}`, 'slots');

  const stand = [...shape].map(([type, { slots, events }]): AnyRoutine =>
    defineRoutine({
      name: type,
      slots: [...slots],
      events: Object.fromEntries([...events].map((event) => [event, [] as string[]])),
      run() {
        // A stand-in: never run.
      },
    }) as unknown as AnyRoutine,
  );
  return loadFlow({ ...root, routines: stripped } as Parameters<typeof loadFlow>[0], { routines: createRoutineRegistry(stand), source: path });
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
