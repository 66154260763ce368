/**
 * Isolation in manifests and the CLI: `isolation` / `resourceLimits` per routine instance, `--threads N`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFlow, ManifestError, type JobState } from 'slotflow';
import { createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { counter, sink } from './fixtures/routines.js';

const runtime = useRuntimes();
const root = fileURLToPath(new URL('../../', import.meta.url));
const routines = createRoutineRegistry([counter, sink]);

function manifestError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return error as ManifestError;
  }
  throw new Error('expected a ManifestError');
}

describe('manifests', () => {
  it('runs a routine instance in a thread with its resource limits', async () => {
    const flow = loadFlow(readFileSync(join(root, 'test/threads/fixtures/threaded.yaml'), 'utf8'), { routines, env: {} });
    const compiled = flow.compile();
    expect(compiled.routines.get('count')?.isolation).toBe('thread');
    expect(compiled.routines.get('count')?.resourceLimits).toEqual({ maxOldGenerationSizeMb: 256 });
    const state = await runtime().exec(flow, { params: { count: 2, stepMs: 1 } }).wait();
    expect(state.status).toBe('completed');
    expect(state.outputs['count.tick']).toEqual([{ n: 0 }, { n: 1 }]);
  }, 30_000);

  it('reports a bad isolation or limit, and a threaded routine without module, with their paths', () => {
    const bad = manifestError(() =>
      loadFlow('id: f\nroutines:\n  c: { type: counter, isolation: process, resourceLimits: { maxOldGenerationSizeMb: 0, heap: 1 } }\nentry: { routine: c }\n', { routines, env: {} }),
    );
    const lines = bad.problems.map((p) => `${p.path}: ${p.message}`);
    expect(lines).toContainEqual(expect.stringMatching(/^routines\.c\.isolation: expected 'inline' or 'thread', got 'process'/));
    expect(lines).toContainEqual(expect.stringMatching(/^routines\.c\.resourceLimits\.maxOldGenerationSizeMb: expected a number above 0/));
    expect(lines.some((l) => l.startsWith('routines.c.resourceLimits') && l.includes('heap'))).toBe(true);
    const loose = manifestError(() => loadFlow('id: f\nroutines:\n  s: { type: sink, isolation: thread }\nentry: { routine: s }\n', { routines, env: {} }));
    expect(loose.problems.map((p) => p.path)).toContain('routines.s.module');
  });

  it('writes an instance override back with toManifest', () => {
    const manifest = createFlow('round').add('c', counter, { isolation: 'inline' }).add('d', counter, { resourceLimits: { stackSizeMb: 8 } }).entry('c', 'input').toManifest();
    expect(manifest.routines.c).toEqual({ type: 'counter', isolation: 'inline' });
    expect(manifest.routines.d).toEqual({ type: 'counter', resourceLimits: { stackSizeMb: 8 } });
  });
});

describe('slotflow run --threads', () => {
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('close', (code) => {
        resolve({ code, stdout, stderr });
      });
    });

  it('runs threaded routines with --threads N, and rejects a bad N', async () => {
    const out = mkdtempSync(join(tmpdir(), 'slotflow-threads-cli-'));
    try {
      const run = await cli(['run', 'test/threads/fixtures/threaded.yaml', '--routines', 'test/threads/fixtures/routines.ts', '--threads', '2', '--jobs', '3', '--params', '{"count":2,"stepMs":1}', '--out', out]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const states = readdirSync(join(out, 'jobs')).map((file) => JSON.parse(readFileSync(join(out, 'jobs', file), 'utf8')) as JobState);
      expect(states).toHaveLength(3);
      for (const state of states) expect(state.outputs['count.tick']).toEqual([{ n: 0 }, { n: 1 }]);
      const bad = await cli(['run', 'test/threads/fixtures/threaded.yaml', '--routines', 'test/threads/fixtures/routines.ts', '--threads', '0']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--threads');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
