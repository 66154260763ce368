/**
 * Manifests: a flow written as YAML (examples/08-manifest/flow.yaml), loaded with `loadFlow` against a registry of
 * routine definitions, drawn with `toMermaid()`, run, written back with `toManifest()`, and a broken manifest's
 * `ManifestError`, which lists every problem with its path in the document.
 */
import { readFile } from 'node:fs/promises';
import { createRuntime } from 'slotflow';
import { createRoutineRegistry, isManifestError, loadFlow } from 'slotflow/manifest';
import { stringify } from 'yaml';
import * as definitions from './08-manifest/routines.js';

const routines = createRoutineRegistry(Object.values(definitions));
const text = await readFile(new URL('08-manifest/flow.yaml', import.meta.url), 'utf8');
// `env` defaults to process.env; a fixed one keeps this example's output the same everywhere.
const flow = loadFlow(text, { routines, env: { LABEL: 'example' }, source: 'flow.yaml' });

console.log('=== toMermaid() ===');
console.log(flow.toMermaid());

await using runtime = createRuntime();
const state = await runtime.exec(flow, { params: {} }).wait({ timeoutMs: 5_000 });
const results = (state.outputs['halve.next'] ?? []).map((p) => `${String(p.value)} (${String(p.steps)} steps)`);
console.log('=== Run ===');
console.log(`Status: ${state.status}`);
console.log(`Pair sums: ${String(state.routines.pairs?.activations)}, halvings: ${String(state.routines.halve?.activations)}`);
console.log(`Cycle: ${JSON.stringify(state.cycles['halve.next->halve.input'])}`);
console.log(`Results: ${results.sort().join(', ')}`);

console.log('=== toManifest() ===');
const manifest = flow.toManifest();
process.stdout.write(stringify(manifest));
// A runtime holds one flow per id, so the reloaded flow runs in a runtime of its own.
await using second = createRuntime();
const again = await second.exec(loadFlow(manifest, { routines }), { params: {} }).wait({ timeoutMs: 5_000 });
console.log(`Round trip, same results: ${String(JSON.stringify(again.outputs) === JSON.stringify(state.outputs))}`);

console.log('=== A broken manifest ===');
try {
  loadFlow(text.replace('n: 2', 'n: -1').replace('halve.input, max', 'halve.inptu, max').replace("'value < 1'", "'value <'"), { routines, env: {}, source: 'broken.yaml' });
} catch (error) {
  if (!isManifestError(error)) throw error;
  console.log(error.message);
}
