#!/usr/bin/env node
// npm `prepare`: builds dist/ after `npm install` in a clone (and for a git dependency), so `npx slotflow` and
// `import 'slotflow'` work at once. `npm pack` / `npm publish` build in `prepack` already: skipped there, so a pack
// builds once. Without the dev dependencies (`npm install --omit=dev`) there is nothing to build with: said, not failed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const command = process.env.npm_command ?? '';

if (command === 'pack' || command === 'publish') process.exit(0);
if (!existsSync(join(root, 'node_modules', 'tsup', 'package.json'))) {
  console.log('slotflow: dev dependencies not installed; skipping the build (npm run build makes dist/).');
  process.exit(0);
}
const npm = process.env.npm_execpath;
const result = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(result.status ?? 1);
