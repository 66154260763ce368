#!/usr/bin/env node
// Checks what `npm pack` would publish (run after `npm run build`):
// - the expected files are there (README, LICENSE, package.json, every entry's .js/.cjs/.d.ts/.d.cts, the CLI, the
//   manifest schema), and every path package.json points to (exports, typesVersions, bin, main, types) is packed;
// - nothing else is: no source, tests, logs, source maps, build caches;
// - `import 'slotflow'` (ES module and CommonJS) does not load what only the manifest loader and the CLI need.
//
// Usage: node scripts/check-package.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- JSON.parse, typed by the cast
const pkg = /** @type {{ exports: Record<string, unknown>, typesVersions: Record<string, Record<string, string[]>>, bin: Record<string, string>, main: string, module: string, types: string }} */ (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
);
/** Entries of the package (dist/<name>.*); a subpath added to `exports` must be added here too. */
const ENTRIES = ['index', 'machines', 'rx', 'testing', 'manifest', 'otel', 'server', 'distributed'];
/** Only the manifest loader and the CLI use these: `import 'slotflow'` must not load them. */
const NOT_IN_CORE = ['yaml', 'zod', 'commander', 'cli-progress', 'hono', '@hono/node-server', 'piscina', 'bullmq', 'ioredis'];
/** Nothing under these is published, nor any file with these endings. */
const NEVER = [/^src\//, /^test\//, /^bench\//, /^examples\//, /^scripts\//, /^docs\//, /^\.vitest\//, /\.log$/, /\.map$/, /\.tsbuildinfo$/, /\.tgz$/];

/** @type {string[]} */
const problems = [];
const npm = process.env.npm_execpath;
// --ignore-scripts: the build already ran; only the file list is wanted.
const json = npm
  ? execFileSync(process.execPath, [npm, 'pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })
  : execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- JSON.parse, typed by the cast
const [pack] = /** @type {{ files: { path: string, size: number }[], size: number, unpackedSize: number }[]} */ (JSON.parse(json));
if (!pack) throw new Error('npm pack --dry-run --json printed no package');
const files = new Set(pack.files.map((f) => f.path));

const expected = ['package.json', 'README.md', 'LICENSE', 'dist/cli.js', 'dist/threadWorker.js', 'dist/monitor/index.html', 'schema/manifest.schema.json'];
for (const entry of ENTRIES) expected.push(`dist/${entry}.js`, `dist/${entry}.cjs`, `dist/${entry}.d.ts`, `dist/${entry}.d.cts`);
for (const file of expected) if (!files.has(file)) problems.push(`missing from the package: ${file}`);

/** Every string path in a package.json field, as packed (no leading ./). @type {string[]} */
const pointed = [];
/** @param {unknown} value */
const collect = (value) => {
  if (typeof value === 'string') pointed.push(posix.normalize(value));
  else if (Array.isArray(value)) value.forEach(collect);
  else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect);
};
collect([pkg.exports, pkg.typesVersions, pkg.bin, pkg.main, pkg.module, pkg.types]);
for (const path of pointed) if (!files.has(path)) problems.push(`package.json points to ${path}, which is not packed`);
// Every subpath has node10 types: typesVersions covers each `exports` key but the package.json itself.
for (const key of Object.keys(pkg.exports)) {
  const sub = key.replace(/^\.\/?/, '');
  if (sub !== '' && sub !== 'package.json' && !(sub in (pkg.typesVersions['*'] ?? {}))) problems.push(`exports '${key}' has no typesVersions entry (node10 resolution would not find its types)`);
}

for (const file of files) if (NEVER.some((pattern) => pattern.test(file))) problems.push(`must not be published: ${file}`);

/**
 * The bare imports of a built file and of the files it imports relatively, recursively.
 * @param {string} file
 * @param {Set<string>} seen
 * @returns {Set<string>}
 */
function importsOf(file, seen = new Set()) {
  /** @type {Set<string>} */
  const bare = new Set();
  if (seen.has(file)) return bare;
  seen.add(file);
  const text = readFileSync(join(root, file), 'utf8');
  // What loads with the module: static imports and requires. A dynamic `import('x')` loads on first use only (the
  // thread pool's piscina), so it does not count.
  const specifiers = [...text.matchAll(/\b(?:from\s*|import\s+|require\s*\(\s*)["']([^"'\s]+)["']/g)].map((m) => m[1] ?? '');
  for (const spec of specifiers) {
    if (spec.startsWith('.')) for (const inner of importsOf(posix.join(posix.dirname(file), spec), seen)) bare.add(inner);
    else bare.add(spec);
  }
  return bare;
}
for (const file of ['dist/index.js', 'dist/index.cjs']) {
  const loaded = [...importsOf(file)];
  const heavy = loaded.filter((spec) => NOT_IN_CORE.some((name) => spec === name || spec.startsWith(`${name}/`)));
  if (heavy.length > 0) problems.push(`${file} loads ${heavy.join(', ')} (only slotflow/manifest and the CLI may)`);
  else console.log(`${file} loads: ${loaded.sort().join(', ')}`);
}

const kb = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(0)} KB`;
console.log(`${files.size} files, ${kb(pack.size)} packed, ${kb(pack.unpackedSize)} unpacked`);
if (problems.length > 0) {
  console.error(`Package check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('Package contents OK');
