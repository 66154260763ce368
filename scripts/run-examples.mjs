#!/usr/bin/env node
// Example runner: runs every examples/NN-*.ts as a user would (tsx, package name resolved through tsconfig
// `paths`) and checks its stdout against examples/expected/NN-*.txt.
//
// Expected files are compared line by line. Text is literal, except `{{regex}}` sections, which must match a
// JavaScript regular expression (e.g. `Elapsed: {{0\.[0-9]+}}s`). A section ends at the first `}}` that is not
// followed by another `}`, so quantifiers such as `{{\d{2}}}` work. Trailing whitespace and trailing blank lines
// are ignored.
//
// `NN-*.test.ts` files are vitest files (a user's test of their flow): `npm test` runs them, not this script.
//
// Then the README's quick start (its ```js block), as a user pastes it: a `.mjs` file in a project of its own whose
// node_modules/slotflow is this package, run by plain node against the built package (dist/; `npm run build`
// first). Its output must be what the README's `// ...` comment on the console.log line says.
//
// Usage: node scripts/run-examples.mjs [filter...]   (a filter keeps the examples whose name contains it; `readme`
// is the README's quick start)

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = join(root, 'examples');
const expectedDir = join(examplesDir, 'expected');
const timeoutMs = 30_000;

/**
 * The command that runs one TypeScript file: node with the local tsx loader (one process, no CLI wrapper), else
 * `npx tsx`. `--conditions=development` loads XState's development build, which carries extra checks.
 * @param {string} file
 * @returns {{ command: string, args: string[] }}
 */
function tsxCommand(file) {
  return existsSync(join(root, 'node_modules', 'tsx', 'package.json'))
    ? { command: process.execPath, args: ['--conditions=development', '--import', 'tsx', file] }
    : { command: 'npx', args: ['--no', '--', 'tsx', '--conditions=development', file] };
}

/**
 * Runs one example in a child process.
 * @param {string} file
 * @param {{ command: string, args: string[] }} how
 * @param {string} cwd
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, timedOut: boolean, ms: number }>}
 */
function run(file, how = tsxCommand(file), cwd = root) {
  const { command, args } = how;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    /** @type {(code: number | null, signal: NodeJS.Signals | null) => void} */
    const finish = (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
    };
    child.on('error', (error) => {
      stderr += String(error);
      finish(null, null);
    });
    child.on('close', finish);
  });
}

/** @param {string} text */
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles one expected line (literal text with `{{regex}}` sections) to an anchored RegExp.
 * @param {string} line
 */
function compileLine(line) {
  let source = '';
  let last = 0;
  for (const match of line.matchAll(/\{\{(.+?)\}\}(?!\})/g)) {
    source += escapeRegExp(line.slice(last, match.index)) + `(?:${match[1] ?? ''})`;
    last = match.index + match[0].length;
  }
  source += escapeRegExp(line.slice(last));
  return new RegExp(`^${source}$`, 'u');
}

/**
 * Splits output into lines without trailing whitespace or trailing blank lines.
 * @param {string} text
 */
function lines(text) {
  const result = text.replace(/\r\n/g, '\n').split('\n').map((line) => line.trimEnd());
  while (result.length > 0 && result.at(-1) === '') result.pop();
  return result;
}

/**
 * Returns why `actual` does not match `expected`, or undefined when it does.
 * @param {string} expected
 * @param {string} actual
 * @returns {string | undefined}
 */
function compare(expected, actual) {
  const want = lines(expected);
  const got = lines(actual);
  const count = Math.max(want.length, got.length);
  for (let i = 0; i < count; i++) {
    const pattern = want[i];
    const line = got[i];
    if (pattern === undefined) return `line ${i + 1}: unexpected extra output ${JSON.stringify(line)}`;
    if (line === undefined) return `line ${i + 1}: output ended, expected ${JSON.stringify(pattern)}`;
    let regex;
    try {
      regex = compileLine(pattern);
    } catch (error) {
      return `line ${i + 1}: bad pattern in expected file (${error instanceof Error ? error.message : String(error)})`;
    }
    if (!regex.test(line)) {
      return `line ${i + 1}: expected ${JSON.stringify(pattern)}, got ${JSON.stringify(line)}`;
    }
  }
  return undefined;
}

/** @param {string} text */
const indent = (text) =>
  lines(text)
    .slice(-40)
    .map((line) => `    | ${line}`)
    .join('\n');

const filters = process.argv.slice(2);
const files = (await readdir(examplesDir))
  .filter((name) => /^\d\d-.+\.ts$/.test(name) && !name.endsWith('.test.ts'))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();

let passed = 0;
let failed = 0;
for (const name of files) {
  const topic = basename(name, '.ts');
  const expectedPath = join(expectedDir, `${topic}.txt`);
  const result = await run(join(examplesDir, name));
  const seconds = (result.ms / 1000).toFixed(2);

  /** @type {string | undefined} */
  let problem;
  if (result.timedOut) problem = `timed out after ${timeoutMs / 1000}s`;
  else if (result.code !== 0) problem = `exited with ${result.signal ?? `code ${String(result.code)}`}`;
  else if (!existsSync(expectedPath)) problem = `no expected output (examples/expected/${topic}.txt)`;
  else problem = compare(await readFile(expectedPath, 'utf8'), result.stdout);

  if (problem === undefined) {
    passed++;
    console.log(`PASS ${topic} (${seconds}s)`);
  } else {
    failed++;
    console.log(`FAIL ${topic} (${seconds}s): ${problem}`);
    if (result.stdout.trim() !== '') console.log(`  stdout:\n${indent(result.stdout)}`);
    if (result.stderr.trim() !== '') console.log(`  stderr:\n${indent(result.stderr)}`);
  }
}

/**
 * The README's quick start, run as a user's `.mjs` against the built package: why it failed, or undefined.
 * @returns {Promise<{ problem: string | undefined, result?: Awaited<ReturnType<typeof run>> }>}
 */
async function readmeQuickStart() {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!readme.includes('## Quick start') || code === undefined) return { problem: 'README.md has no ```js block under "## Quick start"' };
  const expected = /console\.log\(.*\/\/ (.+)$/m.exec(code)?.[1];
  if (expected === undefined) return { problem: "the quick start's console.log line has no `// expected output` comment" };
  if (!existsSync(join(root, 'dist', 'index.js'))) return { problem: 'dist/ is not built (npm run build)' };
  const project = await mkdtemp(join(tmpdir(), 'slotflow-readme-'));
  try {
    await mkdir(join(project, 'node_modules'));
    await symlink(root, join(project, 'node_modules', 'slotflow'), 'dir');
    await writeFile(join(project, 'quick-start.mjs'), code);
    const result = await run('quick-start.mjs', { command: process.execPath, args: ['quick-start.mjs'] }, project);
    if (result.timedOut) return { problem: `timed out after ${timeoutMs / 1000}s`, result };
    if (result.code !== 0) return { problem: `exited with ${result.signal ?? `code ${String(result.code)}`}`, result };
    return { problem: result.stdout.trim() === expected.trim() ? undefined : `expected ${JSON.stringify(expected)}, got ${JSON.stringify(result.stdout.trim())}`, result };
  } finally {
    await rm(project, { recursive: true, force: true });
  }
}

if (filters.length === 0 || filters.some((filter) => 'readme'.includes(filter))) {
  const { problem, result } = await readmeQuickStart();
  const seconds = result ? ` (${(result.ms / 1000).toFixed(2)}s)` : '';
  if (problem === undefined) {
    passed++;
    console.log(`PASS README quick start as .mjs on the built package${seconds}`);
  } else {
    failed++;
    console.log(`FAIL README quick start as .mjs on the built package${seconds}: ${problem}`);
    if (result && result.stdout.trim() !== '') console.log(`  stdout:\n${indent(result.stdout)}`);
    if (result && result.stderr.trim() !== '') console.log(`  stderr:\n${indent(result.stderr)}`);
  }
}

if (files.length === 0 && passed + failed === 0) {
  failed++;
  console.log(`FAIL no examples matched in examples/${filters.length > 0 ? ` (filters: ${filters.join(' ')})` : ''}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
