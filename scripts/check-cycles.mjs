#!/usr/bin/env node
// Fails when src/ or machines/ has an import cycle, type-only imports included (madge, resolving `slotflow` and its
// subpaths through tsconfig.json's paths, as the bundler and the editor do).
//
// Usage: node scripts/check-cycles.mjs   (npm run check:cycles)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

let cli;
try {
  cli = join(dirname(createRequire(import.meta.url).resolve('madge/package.json')), 'bin', 'cli.js');
} catch (error) {
  throw new Error('madge is not installed: run npm install (it is a devDependency)', { cause: error });
}
const args = [cli, '--circular', '--json', '--extensions', 'ts', '--ts-config', 'tsconfig.json', 'src', 'machines'];
let output;
try {
  // madge exits non-zero when it finds a cycle; its JSON is on stdout either way.
  output = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch (error) {
  const failed = /** @type {{ stdout?: string, stderr?: string }} */ (error);
  if (!failed.stdout) throw new Error(`madge failed: ${failed.stderr ?? String(error)}`, { cause: error });
  output = failed.stdout;
}
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- JSON.parse, typed by the cast
const found = /** @type {string[][]} */ (JSON.parse(output));
if (found.length > 0) {
  console.error(`${found.length} import cycle(s):`);
  for (const cycle of found) console.error(`  ${cycle.join(' > ')}`);
  process.exit(1);
}
console.log('no import cycle in src/ or machines/');
