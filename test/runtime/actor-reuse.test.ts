/**
 * Routine actors are reused across jobs of a flow (`reuseActors`), never while inspecting.
 */
import { describe, expect, it, vi } from 'vitest';
import * as xstate from 'xstate';
import { createFlow, createRuntime, defineRoutine } from 'slotflow';

// A pass-through spy on createActor: it counts the actors the runtime creates.
vi.mock('xstate', async (importOriginal) => {
  const actual = await importOriginal<typeof import('xstate')>();
  return { ...actual, createActor: vi.fn(actual.createActor) };
});

const probe = defineRoutine({ name: 'probe', slots: ['in'], run: () => undefined });
const flow = createFlow('probe').add('probe', probe);

/** Actors created for `jobs` jobs of `flow` run one after another. */
async function actorsFor(jobs: number, options: Parameters<typeof createRuntime>[0]): Promise<number> {
  const createActor = vi.mocked(xstate.createActor);
  createActor.mockClear();
  await using rt = createRuntime(options);
  for (let i = 0; i < jobs; i++) await rt.exec(flow, { params: {} }).wait();
  return createActor.mock.calls.length;
}

describe('reuseActors', () => {
  it('reuses the routine actors of finished jobs (each job still gets its own supervisor)', async () => {
    expect(await actorsFor(3, {})).toBe(3 + 1);
  });

  it('0 turns reuse off: every job creates its routine actors', async () => {
    expect(await actorsFor(3, { reuseActors: 0 })).toBe(3 + 3);
  });

  it('never reuses while inspecting, so each job shows its own actor ids', async () => {
    expect(await actorsFor(3, { inspect: () => undefined })).toBe(3 + 3);
  });

  it('keeps at most reuseActors idle actors per routine', async () => {
    const createActor = vi.mocked(xstate.createActor);
    await using rt = createRuntime({ reuseActors: 2 });
    // Five jobs open at once need five routine actors; when they end, two are kept.
    const open = Array.from({ length: 5 }, () => rt.exec(flow, { keepAlive: true }));
    for (const job of open) job.complete();
    await Promise.all(open.map((job) => job.wait()));
    createActor.mockClear();
    const next = Array.from({ length: 5 }, () => rt.exec(flow, { keepAlive: true }));
    for (const job of next) job.complete();
    await Promise.all(next.map((job) => job.wait()));
    // 5 supervisors, and 3 routine actors beyond the 2 reused.
    expect(createActor.mock.calls.length).toBe(5 + 3);
  });
});
