/**
 * What `run` receives is immutable: slot payloads (and the slot lists), `state`, `shared` and `config`. A mutation
 * attempt throws a TypeError (ES modules are strict code), and nothing another routine, a later job or an earlier
 * snapshot sees is changed by it. Changes go through `emit`, `setState` and `setShared`.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, RoutineError } from 'slotflow';
import { attempt } from '../helpers/attempt.js';

describe('immutability: payloads', () => {
  it('a routine cannot change a payload a sibling receives: the mutation throws and the sibling sees the original', async () => {
    const source = defineRoutine({
      name: 'source',
      slots: ['go'],
      events: { order: ['items', 'meta'] },
      run({ emit }) {
        emit('order', { items: [1], meta: { by: 'ada' } });
      },
    });
    const vandal = defineRoutine({
      name: 'vandal',
      slots: ['order'],
      events: { tried: ['push', 'assign', 'slotList'] },
      run({ slots, emit }) {
        const [order] = slots.order as [{ items: number[]; meta: { by: string } }];
        emit('tried', {
          push: attempt(() => order.items.push(2)),
          assign: attempt(() => (order.meta.by = 'mallory')),
          slotList: attempt(() => (slots.order as unknown[]).push({ items: [] })),
        });
      },
    });
    const reader = defineRoutine({
      name: 'reader',
      slots: ['order'],
      events: { saw: ['items', 'by'] },
      run({ slots, emit }) {
        const [order] = slots.order as [{ items: number[]; meta: { by: string } }];
        emit('saw', { items: [...order.items], by: order.meta.by });
      },
    });
    const flow = createFlow('siblings')
      .add('source', source)
      .add('vandal', vandal)
      .add('reader', reader)
      .connect('source.order', 'vandal.order')
      .connect('source.order', 'reader.order');
    await using rt = createRuntime();
    const state = await rt.exec(flow).wait();

    expect(state.status).toBe('completed');
    expect(state.outputs['vandal.tried']).toEqual([{ push: 'TypeError', assign: 'TypeError', slotList: 'TypeError' }]);
    expect(state.outputs['reader.saw']).toEqual([{ items: [1], by: 'ada' }]);
    expect(state.outputs['source.order']).toBeUndefined(); // connected: routed, not an output
  });

  it('an uncaught mutation fails the activation with the TypeError as the cause', async () => {
    const mutator = defineRoutine({
      name: 'mutator',
      slots: ['in'],
      run({ slots }) {
        (slots.in[0] as { n: number }).n = 2;
      },
    });
    await using rt = createRuntime();
    const state = await rt.exec(createFlow('mutates').add('mutator', mutator), { params: { n: 1 } }).wait();

    expect(state.status).toBe('failed');
    expect(state.error).toBeInstanceOf(RoutineError);
    expect((state.error as RoutineError).cause).toBeInstanceOf(TypeError);
    expect(state.params).toEqual({ n: 1 });
  });

  it('params and posted payloads are frozen in place: the caller cannot change them under a running job', async () => {
    const keep = defineRoutine({ name: 'keep', slots: ['in'], events: { out: ['v'] }, run: ({ slots, emit }) => emit('out', { v: slots.in.length }) });
    await using rt = createRuntime();
    const params = { list: [1, 2], nested: { deep: { x: 1 } } };
    const job = rt.exec(createFlow('frozen-params').add('keep', keep), { params });

    expect(Object.isFrozen(params) && Object.isFrozen(params.list) && Object.isFrozen(params.nested.deep)).toBe(true);
    expect(() => params.list.push(3)).toThrow(TypeError);
    await job.wait();
    expect(job.state.params).toEqual({ list: [1, 2], nested: { deep: { x: 1 } } });
  });

  it('only plain objects and arrays are frozen: a Date, Map or class instance in a payload keeps working', async () => {
    class Counter {
      n = 0;
      bump(): number {
        return ++this.n;
      }
    }
    const user = defineRoutine({
      name: 'user',
      slots: ['in'],
      events: { out: ['count', 'size', 'year'] },
      run({ slots, emit }) {
        const { counter, seen, at } = slots.in[0] as { counter: Counter; seen: Map<string, number>; at: Date };
        seen.set('k', 1);
        at.setUTCFullYear(2030);
        emit('out', { count: counter.bump(), size: seen.size, year: at.getUTCFullYear() });
      },
    });
    await using rt = createRuntime();
    const state = await rt.exec(createFlow('non-plain').add('user', user), { params: { counter: new Counter(), seen: new Map(), at: new Date(0) } }).wait();

    expect(state.status).toBe('completed');
    expect(state.outputs['user.out']).toEqual([{ count: 1, size: 1, year: 2030 }]);
  });

  it('a payload 100,000 levels deep is frozen without overflowing the stack', async () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 100_000; i++) deep = { next: deep };
    const keep = defineRoutine({ name: 'keep', slots: ['in'], events: { out: ['ok'] }, run: ({ emit }) => emit('out', { ok: true }) });
    await using rt = createRuntime();
    const state = await rt.exec(createFlow('deep').add('keep', keep), { params: deep }).wait();

    expect(state.status).toBe('completed');
    let node = deep;
    while (node.next) node = node.next as Record<string, unknown>;
    expect(Object.isFrozen(node)).toBe(true);
  });
});

describe('immutability: shared data', () => {
  it('ctx.shared.list.push outside setShared throws, and earlier snapshots stay as they were', async () => {
    const seed = defineRoutine({
      name: 'seed',
      slots: ['go'],
      events: { next: ['n'] },
      run({ setShared, emit }) {
        setShared({ list: [1] });
        emit('next', { n: 1 });
      },
    });
    const pusher = defineRoutine({
      name: 'pusher',
      slots: ['next'],
      events: { tried: ['result', 'before', 'after'] },
      run(ctx) {
        const before = ctx.shared; // the value this activation started from: an earlier snapshot
        const result = attempt(() => (before.list as number[]).push(2));
        ctx.setShared((draft) => {
          (draft.list as number[]).push(3); // a recipe still works
        });
        ctx.emit('tried', { result, before: [...(before.list as number[])], after: [...(ctx.shared.list as number[])] });
      },
    });
    const flow = createFlow('shared').add('seed', seed).add('pusher', pusher).connect('seed.next', 'pusher.next');
    await using rt = createRuntime();
    const state = await rt.exec(flow).wait();

    expect(state.outputs['pusher.tried']).toEqual([{ result: 'TypeError', before: [1], after: [1, 3] }]);
    expect(state.shared).toEqual({ list: [1, 3] });
    expect(Object.isFrozen(state.shared.list)).toBe(true);
  });
});

describe('immutability: state', () => {
  it('mutating ctx.state throws, and the next job starts from the original initialState', async () => {
    const initialState = { count: 0, seen: [] as string[] };
    const counter = defineRoutine({
      name: 'counter',
      slots: ['in'],
      events: { tried: ['assign', 'push'] },
      initialState,
      run({ state, setState, emit }) {
        const tried = { assign: attempt(() => state.count++), push: attempt(() => state.seen.push('x')) };
        setState((draft) => {
          draft.count += 1;
          draft.seen.push('y');
        });
        emit('tried', tried);
      },
    });
    const flow = createFlow('counting').add('counter', counter);
    await using rt = createRuntime();
    const first = await rt.exec(flow).wait();
    const second = await rt.exec(flow).wait();

    expect(first.outputs['counter.tried']).toEqual([{ assign: 'TypeError', push: 'TypeError' }]);
    expect(first.routines.counter?.state).toEqual({ count: 1, seen: ['y'] });
    expect(second.routines.counter?.state).toEqual({ count: 1, seen: ['y'] });
    expect(initialState).toEqual({ count: 0, seen: [] });
    expect(counter.initialState).toBe(initialState); // frozen in place, documented
    expect(Object.isFrozen(initialState.seen)).toBe(true);
  });

  it('an uncaught state mutation fails that job only; the next job starts clean', async () => {
    const bad = defineRoutine({
      name: 'bad',
      slots: ['in'],
      initialState: { hits: 0 },
      run({ slots, state, setState }) {
        if ((slots.in[0] as { mutate?: boolean }).mutate) state.hits = 99;
        else setState((draft) => void (draft.hits += 1));
      },
    });
    const flow = createFlow('bad-state').add('bad', bad);
    await using rt = createRuntime();
    const failed = await rt.exec(flow, { params: { mutate: true } }).wait();
    const next = await rt.exec(flow, { params: {} }).wait();

    expect(failed.status).toBe('failed');
    expect((failed.error as RoutineError).cause).toBeInstanceOf(TypeError);
    expect(next.status).toBe('completed');
    expect(next.routines.bad?.state).toEqual({ hits: 1 });
  });

  it('a replacement value given to setState is frozen: a later activation cannot mutate it', async () => {
    const keeper = defineRoutine({
      name: 'keeper',
      slots: ['in'],
      events: { tried: ['result'] },
      initialState: { items: [] as number[] },
      run({ slots, state, setState, emit }) {
        if (slots.in[0]?.first) setState({ items: [1] });
        else emit('tried', { result: attempt(() => state.items.push(2)) });
      },
    });
    await using rt = createRuntime();
    const job = rt.exec(createFlow('replace').add('keeper', keeper), { params: { first: true }, keepAlive: true });
    let done = 0;
    const sub = job.events$.subscribe((event) => {
      if (event.type !== 'routine.completed') return;
      if (++done === 1) job.post('keeper', 'in', { first: false });
      else job.complete();
    });
    const state = await job.wait();
    sub.unsubscribe();

    expect(state.outputs['keeper.tried']).toEqual([{ result: 'TypeError' }]);
    expect(state.routines.keeper?.state).toEqual({ items: [1] });
  });
});

describe('immutability: config', () => {
  it('config is deep-frozen: a routine cannot change it for later activations or jobs; class instances stay usable', async () => {
    const registry = new Map<string, number>();
    const reader = defineRoutine({
      name: 'reader',
      slots: ['in'],
      events: { tried: ['top', 'nested', 'max', 'registered'] },
      config: { limits: { max: 3 }, tags: ['a'], registry },
      run({ config, emit }) {
        config.registry.set('seen', (config.registry.get('seen') ?? 0) + 1);
        emit('tried', {
          top: attempt(() => ((config as { limits: unknown }).limits = {})),
          nested: attempt(() => ((config.limits).max = 9)),
          max: config.limits.max,
          registered: config.registry.get('seen'),
        });
      },
    });
    const flow = createFlow('configured').add('reader', reader, { config: { tags: ['b', 'c'] } });
    await using rt = createRuntime();
    const first = await rt.exec(flow).wait();
    const second = await rt.exec(flow).wait();

    expect(first.outputs['reader.tried']).toEqual([{ top: 'TypeError', nested: 'TypeError', max: 3, registered: 1 }]);
    expect(second.outputs['reader.tried']).toEqual([{ top: 'TypeError', nested: 'TypeError', max: 3, registered: 2 }]);
    expect(Object.isFrozen(reader.config.limits) && Object.isFrozen(reader.config.tags)).toBe(true);
    expect(Object.isFrozen(registry)).toBe(false);
  });
});
