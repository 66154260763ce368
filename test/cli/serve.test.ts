/**
 * `slotflow serve` end to end: the CLI from source in a child process (node with the tsx loader), driven over HTTP.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const FIXTURES = 'test/cli/fixtures';
const BUDGET = 60_000;

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function serve(args: readonly string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', MAIN, 'serve', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /slotflow monitor: (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    void exit.then(() => reject(new Error(`serve exited before printing its URL:\n${stdout}\n${stderr}`)));
  });
  // Tests that expect an early exit never ask for the URL.
  url.catch(() => undefined);
  return { child, url, exit, output: () => stdout };
}

describe('slotflow serve', () => {
  it('serves the monitor for the manifest flow; Ctrl-C saves unfinished jobs to --store, and the next serve resumes them', async () => {
    const store = mkdtempSync(join(tmpdir(), 'slotflow-serve-'));
    dirs.push(store);
    const args = [`${FIXTURES}/waiting.yaml`, '--routines', `${FIXTURES}/routines.ts`, '--port', '0', '--store', store];
    const first = serve(args);
    const url = await first.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/slotflow monitor/);
    expect(await (await fetch(`${url}/api/flows`)).json()).toMatchObject([{ id: 'waiting_flow' }]);
    const created = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flowId: 'waiting_flow', params: {}, jobId: 'kept' }) });
    expect(created.status).toBe(201);

    first.child.kill('SIGINT');
    const { code, stdout } = await first.exit;
    expect(code).toBe(0);
    expect(stdout).toMatch(/Interrupted: stopping the server and saving unfinished jobs/);
    expect(stdout).toMatch(/1 unfinished job saved to/);
    expect(readdirSync(store).some((file) => file.includes('kept'))).toBe(true);
    // The port is free again.
    await expect(fetch(`${url}/api/flows`)).rejects.toThrow();

    const second = serve(args);
    const url2 = await second.url;
    expect(second.output()).toMatch(/Resumed 1 unfinished job/);
    const jobs = (await (await fetch(`${url2}/api/jobs`)).json()) as { id: string; status: string }[];
    expect(jobs).toEqual([expect.objectContaining({ id: 'kept', status: 'running' })]);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  }, BUDGET);

  it('refuses a non-loopback host without SLOTFLOW_TOKEN', async () => {
    const run = serve([`${FIXTURES}/waiting.yaml`, '--routines', `${FIXTURES}/routines.ts`, '--port', '0', '--host', '0.0.0.0'], { SLOTFLOW_TOKEN: '' });
    const { code, stderr } = await run.exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(/InvalidOptionError: Expected `createServer\(\{ host \}\)` to be a loopback host/);
  }, BUDGET);

  it('rejects a bad --port', async () => {
    const run = serve([`${FIXTURES}/waiting.yaml`, '--routines', `${FIXTURES}/routines.ts`, '--port', '99999']);
    const { code, stderr } = await run.exit;
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port <n>.*Expected a port from 0/);
  }, BUDGET);
});
