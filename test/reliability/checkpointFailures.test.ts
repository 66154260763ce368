/**
 * Checkpoint failures never hang or crash: a hung store call is bounded by `storeTimeoutMs`, a throwing
 * `onCheckpointError` is a warning, and data JSON cannot hold is a `CheckpointError` naming where it is.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFlow, createMemoryStore, defineRoutine, isCheckpointError, type CheckpointError, type CheckpointStore } from 'slotflow';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();
afterEach(() => {
  vi.restoreAllMocks();
});

const keeper = (value: () => unknown) =>
  defineRoutine({
    name: 'keeper',
    slots: ['in'],
    events: { out: ['v'] },
    run({ setState, emit }) {
      setState(() => ({ kept: value() }));
      emit('out', { v: 1 });
    },
  });

/** A store whose calls never settle (a dead connection). */
const hungStore = (): CheckpointStore & { calls: string[] } => {
  const calls: string[] = [];
  const never = <T>(name: string) => {
    calls.push(name);
    return new Promise<T>(() => {});
  };
  return { calls, save: () => never('save'), load: () => never('load'), listUnfinished: () => never('list'), delete: () => never('delete') };
};

describe('storeTimeoutMs', () => {
  it('a store that never answers: checkpoint() rejects with CheckpointError (timeout), shutdown() finishes, recover() rejects', async () => {
    const store = hungStore();
    const errors: CheckpointError[] = [];
    const rt = runtime({ store, storeTimeoutMs: 20, onCheckpointError: (error) => errors.push(error) });
    const job = rt.exec(createFlow('k').add('k', keeper(() => 1)), { params: {} });
    await expect(job.checkpoint()).rejects.toSatisfy((error) => isCheckpointError(error) && error.reason === 'timeout');
    expect((await job.wait()).status).toBe('completed');
    await expect(rt.recover()).rejects.toSatisfy((error) => isCheckpointError(error) && error.operation === 'list' && error.reason === 'timeout');
    await rt.shutdown();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.reason === 'timeout' && e.message.includes('within 20 ms (storeTimeoutMs)'))).toBe(true);
    // The job ended in the turn it started: its one store call was the delete of a finished job.
    expect(store.calls).toEqual(['delete', 'list']);
  });
});

describe('onCheckpointError that throws', () => {
  it('is a process warning, not an unhandled rejection, and checkpoint() settles', async () => {
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
      warnings.push(String(warning));
    });
    const store: CheckpointStore = { ...createMemoryStore(), save: () => Promise.reject(new Error('disk full')) };
    const rt = runtime({
      store,
      retainFinished: true,
      onCheckpointError: () => {
        throw new Error('handler bug');
      },
    });
    const job = rt.exec(createFlow('k').add('k', keeper(() => 1)), { params: {} });
    await expect(job.checkpoint()).rejects.toThrow(/disk full/);
    expect((await job.wait()).status).toBe('completed');
    await rt.shutdown();
    expect(warnings.some((w) => /onCheckpointError threw .*disk full.*handler bug/.test(w))).toBe(true);
  });
});

describe('data JSON cannot hold', () => {
  it.each([
    ['a function', () => () => 1, 'routines.k.state.kept'],
    ['a symbol', () => Symbol('s'), 'routines.k.state.kept'],
    ['undefined in an array', () => [1, undefined], 'routines.k.state.kept[1]'],
    ['undefined in an object', () => ({ a: undefined }), 'routines.k.state.kept.a'],
    ['a Map', () => new Map([[1, 2]]), 'routines.k.state.kept'],
    ['NaN', () => Number.NaN, 'routines.k.state.kept'],
    ['a BigInt', () => ({ big: 1n }), 'routines.k.state.kept.big'],
    [
      'a cycle',
      () => {
        const node: Record<string, unknown> = { list: [] };
        (node.list as unknown[]).push(node);
        return node;
      },
      'routines.k.state.kept.list[0]',
    ],
  ])('%s in what a checkpoint stores is a CheckpointError naming its path', async (_what, value, path) => {
    const errors: CheckpointError[] = [];
    const store = createMemoryStore();
    const rt = runtime({ store, retainFinished: true, onCheckpointError: (error) => errors.push(error) });
    const job = rt.exec(createFlow('k').add('k', keeper(value)), { params: {} });
    await expect(job.checkpoint()).rejects.toSatisfy((error) => isCheckpointError(error) && error.reason === 'unserializable' && error.path === path);
    expect(errors[0]?.message).toContain(path);
    expect(() => job.snapshot()).toThrow(path);
  });

  it('plain JSON data (a Date included, as its string) checkpoints fine', async () => {
    const store = createMemoryStore();
    const rt = runtime({ store, retainFinished: true });
    const job = rt.exec(createFlow('k').add('k', keeper(() => ({ at: new Date(0), list: [1, null, 'x'], nested: { ok: true } }))), { params: {} });
    await job.wait();
    await job.checkpoint();
    expect((await store.load(job.id))?.routines.k?.state).toEqual({ kept: { at: '1970-01-01T00:00:00.000Z', list: [1, null, 'x'], nested: { ok: true } } });
  });
});
