/**
 * Snapshots are untrusted data (a file, a database row): whatever they hold, restoring them gives a typed
 * `SnapshotError` naming the field, or a job that runs; never a crash inside the running job.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- tests poke arbitrary fields of parsed JSON */
import { describe, expect, it } from 'vitest';
import { createMemoryStore, isSnapshotError, parseSnapshot, type JobSnapshot } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { chain } from '../persistence/chainFlow.js';

const runtime = useRuntimes();

/** A snapshot as loose JSON data, for editing. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke arbitrary fields of parsed JSON
type Raw = Record<string, any>;

/** The JSON text of a job of `chain()` held with `b` in flight. */
async function heldText(): Promise<string> {
  const c = chain();
  c.holds.set('b', deferred());
  const rt = runtime();
  const job = rt.exec(c.flow, { params: { n: 1 }, jobId: 'held' });
  await flush();
  const text = JSON.stringify(job.snapshot());
  await rt.shutdown();
  return text;
}

/** `text` parsed, changed by `edit`, as JSON-parsed data (own `__proto__` keys stay own keys, as from a file). */
function edited(text: string, edit: (raw: Raw) => void): JobSnapshot {
  const raw = JSON.parse(text) as Raw;
  edit(raw);
  return JSON.parse(JSON.stringify(raw)) as JobSnapshot;
}

const withProto = (value: unknown): Record<string, unknown> => JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`) as Record<string, unknown>;

describe('snapshot validation', () => {
  it("an own '__proto__' key in outputs is a SnapshotError naming it, through restore and recover, and the process goes on", async () => {
    const text = await heldText();
    const bad = edited(text, (raw) => {
      raw.outputs = withProto([{ n: 1 }]);
    });
    expect(Object.keys(bad.outputs)).toEqual(['__proto__']);
    const c = chain();
    const rt = runtime().register(c.flow);
    let caught: unknown;
    try {
      rt.restore(bad);
    } catch (error) {
      caught = error;
    }
    expect(isSnapshotError(caught) && caught.reason).toBe('malformed');
    expect((caught as Error).message).toContain("'outputs.__proto__'");

    // The same file in a store: recover() skips it with the error and resumes the good job next to it.
    const store = createMemoryStore();
    await store.save(bad);
    await store.save(edited(text, (raw) => (raw.jobId = 'good')));
    const recovering = runtime({ store }).register(c.flow);
    const jobs = await recovering.recover();
    expect(jobs.map((job) => job.id)).toEqual(['good']);
    expect(jobs.skipped.map((s) => [s.jobId, isSnapshotError(s.error)])).toEqual([['held', true]]);
    const state = await jobs[0]?.wait();
    expect(state?.status).toBe('completed');
    expect(state?.outputs).toEqual({ 'c.out': [{ n: 4 }] });
  });

  it.each([
    ['routines.b.activations', (raw: Raw) => (raw.routines.b.activations = -5)],
    ['routines.b.errors', (raw: Raw) => (raw.routines.b.errors = 1.5)],
    ['routines.b.inflight.attempt', (raw: Raw) => (raw.routines.b.inflight.attempt = -1)],
    ['savedAt', (raw: Raw) => (raw.savedAt = 'yesterday')],
    ['completing', (raw: Raw) => (raw.completing = 'no')],
    ['routines.b.state.deep.__proto__', (raw: Raw) => (raw.routines.b.state = { deep: withProto({ polluted: true }) })],
    ['shared.__proto__', (raw: Raw) => (raw.shared = withProto({}))],
    ['routines.b.queues.__proto__', (raw: Raw) => (raw.routines.b.queues = withProto([{ n: 1 }]))],
    ['history[0].outcome', (raw: Raw) => (raw.history = [{ routineId: 'a', attempt: 0, startedAt: 0, finishedAt: 1, durationMs: 1, consumed: {}, emitted: {}, outcome: 'great' }])],
    ['outputs.nodot', (raw: Raw) => (raw.outputs = { nodot: [] })],
  ])('%s out of range or of the wrong type is SnapshotError malformed naming it', async (field, edit) => {
    const bad = edited(await heldText(), edit);
    let caught: unknown;
    try {
      parseSnapshot(bad);
    } catch (error) {
      caught = error;
    }
    expect(isSnapshotError(caught) && caught.reason).toBe('malformed');
    expect((caught as Error).message).toContain(`'${field}'`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('outputs of an event the flow does not have are SnapshotError flow', async () => {
    const bad = edited(await heldText(), (raw) => (raw.outputs = { 'c.nope': [] }));
    const rt = runtime().register(chain().flow);
    expect(() => rt.restore(bad)).toThrow(/c\.nope/);
  });
});
