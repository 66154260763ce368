#!/usr/bin/env node
// Fails when src/ or machines/ has an import cycle, type-only imports included (madge, resolving `slotflow` and its
// subpaths through tsconfig.json's paths, as the bundler and the editor do).
//
// KNOWN lists the cycles that existed when this check was added, each one inside src/job (JobRunner and the helpers
// that take it as a parameter); they are tolerated until the engine split removes them, and nothing else is. A
// KNOWN entry that no longer occurs is reported so it gets deleted.
//
// Usage: node scripts/check-cycles.mjs   (npm run check:cycles)
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Cycles tolerated for now, as madge prints them (files joined by ' > '). */
const KNOWN = new Set([
  'src/job/JobRunner.ts > src/job/JobStateView.ts',
  'src/job/JobRunner.ts > src/job/JobStateView.ts > src/job/runActivation.ts',
  'src/job/JobRunner.ts > src/job/JobStateView.ts > src/job/runActivation.ts > src/job/progress.ts',
  'src/job/JobRunner.ts > src/job/cleanup.ts',
  'src/job/JobRunner.ts > src/job/jobSnapshot.ts',
]);

const args = ['--circular', '--json', '--extensions', 'ts', '--ts-config', 'tsconfig.json', 'src', 'machines'];
let output;
try {
  // madge exits non-zero when it finds a cycle; its JSON is on stdout either way.
  output = execFileSync('madge', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
} catch (error) {
  const failed = /** @type {{ stdout?: string, stderr?: string, code?: string }} */ (error);
  if (failed.code === 'ENOENT') throw new Error('madge is not installed: run npm install (it is a devDependency)', { cause: error });
  if (!failed.stdout) throw new Error(`madge failed: ${failed.stderr ?? String(error)}`, { cause: error });
  output = failed.stdout;
}
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- JSON.parse, typed by the cast
const found = /** @type {string[][]} */ (JSON.parse(output));
const cycles = found.map((cycle) => cycle.join(' > '));
const unknown = cycles.filter((cycle) => !KNOWN.has(cycle));
const gone = [...KNOWN].filter((cycle) => !cycles.includes(cycle));

for (const cycle of gone) console.log(`gone (delete it from KNOWN in scripts/check-cycles.mjs): ${cycle}`);
if (unknown.length > 0) {
  console.error(`${unknown.length} import cycle(s):`);
  for (const cycle of unknown) console.error(`  ${cycle}`);
  process.exit(1);
}
console.log(`no new import cycle (${cycles.length} known one(s) left in src/job)`);
