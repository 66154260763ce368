/**
 * `slotflow worker`: runs a manifest's jobs from a Redis queue; SIGTERM hands running jobs back and exits 0.
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { createDistributedRuntime } from 'slotflow/distributed';
import { useRedisServer } from './useRedisServer.js';

const server = useRedisServer();

it('slotflow worker runs the jobs of a manifest and exits 0 on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', 'src/cli/main.ts', 'worker', 'examples/08-manifest/flow.yaml', '--routines', 'examples/08-manifest/routines.ts', '--redis', server.url, '--queue', 'cli'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const runtime = createDistributedRuntime({ connection: server.url, queue: 'cli' });
  try {
    const job = await runtime.exec('manifest_demo', { params: {} });
    const state = await job.wait({ timeoutMs: 45_000 });
    expect(state.status).toBe('completed');
    expect(out).toContain("consuming queue 'cli'");
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/stopped \(1 done, 0 failed/);
  } finally {
    child.kill('SIGKILL');
    await runtime.close();
  }
}, 60_000);

it('slotflow worker rejects a --redis that is not a URL (exit 1)', async () => {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'src/cli/main.ts', 'worker', 'examples/08-manifest/flow.yaml', '--routines', 'examples/08-manifest/routines.ts', '--redis', 'localhost'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  expect(code).toBe(1);
  expect(err).toContain("--redis: expected a redis:// or rediss:// URL, got 'localhost'");
}, 30_000);
