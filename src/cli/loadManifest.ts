/**
 * loadManifest: the flow of a manifest file, built with the routines of a `--routines` module, or sketched without
 * them (for `slotflow graph`).
 */
import { readFileSync } from 'node:fs';
import { defineRoutine, type AnyRoutine, type FlowBuilder, type RoutineMap } from 'slotflow';
import { createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { parseManifestText } from '../manifest/parseManifestText.js';
import { record } from '../manifest/record.js';
import { CliError, messageOf } from './CliError.js';
import { loadRoutines } from './loadRoutines.js';

/**
 * The one slot of a stand-in whose type has no slot the manifest names (a routine only ever connected from): a
 * routine needs a slot, and the drawing says plainly that its real ones are unknown.
 */
const UNNAMED_SLOT = '(not in manifest)';

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
 * the ones the manifest names (connections, entry, policy slots), or one `UNNAMED_SLOT` when it names none. Enough
 * to draw the graph; configs are not checked.
 */
export function sketchManifestFlow(path: string): FlowBuilder<RoutineMap> {
  const root = record(parseManifestText(readManifest(path), path));
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
    // A name no routine can have ('a.b') is left to loadFlow to report, as an unknown slot.
    if (Array.isArray(slots)) for (const slot of slots) if (typeof slot === 'string' && slot !== '' && !slot.includes('.')) shape.get(rest.type)?.slots.add(slot);
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
      slots: slots.size > 0 ? [...slots] : [UNNAMED_SLOT],
      events: Object.fromEntries([...events].map((event) => [event, [] as string[]])),
      run() {
        // A stand-in: never run.
      },
    }) as unknown as AnyRoutine,
  );
  return loadFlow({ ...root, routines: stripped } as Parameters<typeof loadFlow>[0], { routines: createRoutineRegistry(stand), source: path });
}
