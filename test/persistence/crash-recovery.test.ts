/**
 * A real crash: a child process runs a job with a file store and is killed with SIGKILL in the middle; a new
 * runtime recovers the job from the store and completes it. Steps checkpointed before the kill ran exactly once;
 * the step in flight at the kill may run twice (at-least-once).
 */
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileStore, createRuntime, type JobSnapshot } from 'slotflow';
import { counterFlow, LAST } from './crash/counterFlow.js';

const child = fileURLToPath(new URL('./crash/child.ts', import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Runs the child until it reports `after` completed steps, then SIGKILLs it (it holds in step `after + 2` until then). */
function runAndKill(dir: string, sideEffects: string, after: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = fork(child, [dir, sideEffects, String(after + 2)], { execArgv: ['--conditions=development', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    proc.on('message', (message: { completed?: number }) => {
      if ((message.completed ?? 0) >= after) proc.kill('SIGKILL');
    });
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the child exited by itself (code ${String(code)}) before it was killed`));
    });
    proc.on('error', reject);
  });
}

describe('crash recovery (SIGKILL)', () => {
  it('recovers a job killed mid-run and completes it; steps checkpointed before the kill ran exactly once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slotflow-crash-'));
    dirs.push(dir);
    const sideEffects = join(dir, 'side-effects.log');
    await runAndKill(join(dir, 'store'), sideEffects, 10);

    const store = createFileStore(join(dir, 'store'));
    expect(await store.listUnfinished()).toEqual(['counter-1']);
    const checkpoint = (await store.load('counter-1')) as JobSnapshot;
    const checkpointed = checkpoint.history.filter((h) => h.outcome === 'ok').length;
    expect(checkpointed).toBeGreaterThanOrEqual(10);
    expect(checkpointed).toBeLessThan(LAST);

    const runtime = createRuntime({ store });
    runtime.register(counterFlow(sideEffects, 0));
    const recovered = await runtime.recover();
    expect(recovered.map((j) => j.id)).toEqual(['counter-1']);
    const state = await recovered[0]!.wait({ timeoutMs: 10_000 });
    await runtime.shutdown({ wait: true });

    expect(state.status).toBe('completed');
    expect(state.outputs).toEqual({ 'work.next': [{ i: LAST }] });
    // Every step counted once, plus the one in flight at the kill if there was one (it ran again).
    expect(state.routines.work?.activations).toBeGreaterThanOrEqual(LAST);
    expect(state.routines.work?.activations).toBeLessThanOrEqual(LAST + 1);
    const lines = (await readFile(sideEffects, 'utf8')).trim().split('\n');
    const runs = new Map<string, number>();
    for (const line of lines) runs.set(line, (runs.get(line) ?? 0) + 1);
    for (let i = 0; i < LAST; i++) {
      const count = runs.get(`work:${String(i)}`) ?? 0;
      // Checkpointed steps ran once; the one in flight at the kill at most twice; the rest once, after recovery.
      if (i < checkpointed) expect(count, `step ${String(i)}`).toBe(1);
      else expect(count, `step ${String(i)}`).toBeGreaterThanOrEqual(1);
      expect(count, `step ${String(i)}`).toBeLessThanOrEqual(2);
    }
    // The finished job left the store.
    expect(await store.listUnfinished()).toEqual([]);
    await store.close();
  }, 60_000);
});
