/**
 * The runtime's thread pool: threads compute at the same time (proven by the spans the threads report, not by
 * speed), `threads.max` bounds them, and a user's program that runs threaded routines exits when done.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFlow, defineRoutine, event, type JobState } from 'slotflow';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { counter } from './fixtures/routines.js';

const runtime = useRuntimes();
const T = 30_000;
const root = fileURLToPath(new URL('../../', import.meta.url));

const fan = defineRoutine({
  name: 'fan',
  slots: ['input'],
  events: { out: event<{ count: number; stepMs: number }>() },
  run({ emit }) {
    emit('out', { count: 8, stepMs: 100 });
  },
});

function twoBranches(id: string) {
  return createFlow(id).add('fan', fan).add('a', counter).add('b', counter).connect('fan.out', 'a.input').connect('fan.out', 'b.input').entry('fan', 'input');
}

function spans(state: JobState) {
  const a = state.outputs['a.span']?.[0] as { start: number; end: number };
  const b = state.outputs['b.span']?.[0] as { start: number; end: number };
  return { a, b };
}

describe('thread pool', () => {
  it('runs two threaded activations at the same time', async () => {
    const rt = runtime({ threads: { max: 2 } });
    // Both threads started and warm first: a thread starting on a busy machine can take longer than the work.
    const warm = await rt.exec(twoBranches('warm-up'), { params: {} }).wait();
    expect(warm.status).toBe('completed');
    const state = await rt.exec(twoBranches('parallel'), { params: {} }).wait();
    expect(state.status).toBe('completed');
    const { a, b } = spans(state);
    // Each computed for ~800 ms; their spans, by the threads' own clocks, overlap.
    expect(a.start).toBeLessThan(b.end);
    expect(b.start).toBeLessThan(a.end);
  }, T);

  it('threads.max bounds the threads computing at once', async () => {
    const rt = runtime({ threads: { max: 1 } });
    const state = await rt.exec(twoBranches('serial'), { params: {} }).wait();
    expect(state.status).toBe('completed');
    const { a, b } = spans(state);
    const [first, second] = a.start < b.start ? [a, b] : [b, a];
    expect(second.start).toBeGreaterThanOrEqual(first.end);
  }, T);

  it('a program started with node --import tsx runs threaded routines and exits after shutdown', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'test/threads/fixtures/app.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('close', (code) => {
          resolve({ code, stdout, stderr });
        });
      });
    const withShutdown = await run(['shutdown']);
    expect(withShutdown.stderr).toBe('');
    expect(withShutdown.stdout).toBe('completed [{"n":0},{"n":1}]\n');
    expect(withShutdown.code).toBe(0);
    // Idle threads do not keep the process alive either.
    const without = await run([]);
    expect(without.code).toBe(0);
  }, 60_000);
});
