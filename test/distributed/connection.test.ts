/**
 * Redis unreachable: `ConnectionError` within `connectTimeoutMs`, never a hang; after `close()` the process exits
 * by itself (every connection slotflow opened is closed, none it was given).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConnectionError } from 'slotflow';
import { createDistributedRuntime, createWorker } from 'slotflow/distributed';
import { freePort } from './redisServer.js';
import { useRedisServer } from './useRedisServer.js';
import { testFlows } from './fixtures/flows.js';

const script = fileURLToPath(new URL('./fixtures/connect.ts', import.meta.url));

/** Runs the fixture; rejects when it does not exit by itself within 30 s. */
function runFixture(url: string, timeoutMs: number): Promise<{ code: number; out: Record<string, { ok: boolean; name?: string; value?: unknown; ms: number }> }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--conditions=development', '--import', 'tsx', script, url, String(timeoutMs)], { timeout: 30_000, killSignal: 'SIGKILL' }, (error, stdout) => {
      if (error?.killed) {
        reject(new Error('the process did not exit by itself'));
        return;
      }
      const line = stdout.trim().split('\n').at(-1) ?? '{}';
      resolve({ code: error ? Number(error.code) : 0, out: JSON.parse(line) as never });
    });
  });
}

const server = useRedisServer();

describe('Redis unreachable', () => {
  it('ready() and exec() reject with ConnectionError within connectTimeoutMs, and the process exits', async () => {
    const port = await freePort();
    const { code, out } = await runFixture(`redis://127.0.0.1:${String(port)}`, 500);
    expect(code).toBe(0);
    expect(out.ready).toMatchObject({ ok: false, name: 'ConnectionError' });
    expect(out.exec).toMatchObject({ ok: false, name: 'ConnectionError' });
    // 500 ms each, with room for a slow machine: never the hang of a command queued forever.
    expect(out.exec?.ms).toBeLessThan(5_000);
  }, 40_000);

  it('the error names the server and the time allowed (in process)', async () => {
    const port = await freePort();
    const runtime = createDistributedRuntime({ connection: `redis://127.0.0.1:${String(port)}`, connectTimeoutMs: 300 });
    const error = await runtime.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain(`127.0.0.1:${String(port)}`);
    expect((error as Error).message).toContain('300 ms');
    await runtime.close();
  });
});

describe('close()', () => {
  it('a worker and a producer that ran a job leave nothing open: the process exits', async () => {
    const { code, out } = await runFixture(server.url, 5_000);
    expect(code).toBe(0);
    expect(out.ready).toMatchObject({ ok: true });
    expect(out.exec).toMatchObject({ ok: true, value: 'completed' });
  }, 40_000);

  it('never closes a connection it was given', async () => {
    const given = new Redis(server.url, { maxRetriesPerRequest: null });
    const fixtures = testFlows(server.url, 1);
    const worker = createWorker({ connection: given, queue: 'given', flows: fixtures.flows });
    const runtime = createDistributedRuntime({ connection: given, queue: 'given' });
    await worker.ready();
    const job = await runtime.exec('gate', { params: { text: 'hi' } });
    expect((await job.wait({ timeoutMs: 20_000 })).status).toBe('completed');
    await worker.close();
    await runtime.close();
    expect(await given.ping()).toBe('PONG');
    await given.quit();
    await fixtures.close();
  }, 40_000);
});
