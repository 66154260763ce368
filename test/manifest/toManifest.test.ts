import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFlow, defineRoutine, expressionSourceOf, FlowValidationError, ManifestError, policies, toManifest, type FlowDefinition, type FlowManifest, type RoutineManifest } from 'slotflow';
import { compileExpression, createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { useRuntimes } from '../helpers/runtimes.js';
import { collector, counter, fetcher, joiner } from './routines.js';

const routines = createRoutineRegistry([fetcher, collector, joiner, counter]);
const newRuntime = useRuntimes();

/** Everything a compiled flow is made of, in comparable form. */
function structure(flow: FlowDefinition) {
  return {
    id: flow.id,
    onError: flow.onError,
    entry: flow.entry,
    routines: [...flow.routines.values()].map((r) => ({
      id: r.id,
      routine: r.routine,
      config: r.config,
      policy: { name: r.policy.name, params: r.policy.params, slots: r.policy.slots },
      onError: r.onError,
      timeoutMs: r.timeoutMs,
      maxQueue: r.maxQueue,
    })),
    connections: flow.connections.map((c) => ({
      name: c.name,
      from: c.from,
      to: c.to,
      bound: c.bound && { maxIterations: c.bound.maxIterations, onExhausted: c.bound.onExhausted, until: c.bound.until && expressionSourceOf(c.bound.until) },
    })),
  };
}

const codeFlow = () =>
  createFlow('code_flow')
    .add('fetch', fetcher, { config: { sourceName: 'S1', retries: 5 }, onError: { retry: { max: 2, backoffMs: 5 }, then: 'continue' }, timeoutMs: 1_000 })
    .add('left', fetcher, { policy: policies.window(30), maxQueue: 10 })
    .add('join', joiner, { policy: policies.batch(2, { slots: ['left', 'right'] }), onError: 'skip' })
    .add('all', joiner, { policy: policies.allReady() })
    .add('tick', collector, { policy: policies.interval(100) })
    .add('count', counter, { config: { target: 4 } })
    .connect('fetch.output', 'join.left', { name: 'fetched' })
    .connect('left.output', 'join.right')
    .connect('fetch.output', 'tick.input')
    .connect('count.next', 'count.input', { maxIterations: 10, until: compileExpression('converged or n > 100'), onExhausted: 'fail' })
    .entry('count', 'input')
    .onError('continue');

describe('flow.toManifest', () => {
  it('writes what the flow sets beyond its routine definitions', () => {
    expect(codeFlow().toManifest()).toEqual({
      id: 'code_flow',
      defaults: { onError: 'continue' },
      routines: {
        fetch: { type: 'fetcher', config: { sourceName: 'S1', retries: 5 }, onError: { retry: { max: 2, backoffMs: 5 }, then: 'continue' }, timeoutMs: 1_000 },
        left: { type: 'fetcher', policy: { type: 'window', ms: 30 }, maxQueue: 10 },
        join: { type: 'joiner', policy: { type: 'batch', n: 2, slots: ['left', 'right'] }, onError: 'skip' },
        all: { type: 'joiner', policy: 'allReady' },
        tick: { type: 'collector', policy: { type: 'interval', ms: 100 } },
        count: { type: 'counter', config: { target: 4 } },
      },
      connections: [
        { from: 'fetch.output', to: 'join.left', name: 'fetched' },
        { from: 'left.output', to: 'join.right' },
        { from: 'fetch.output', to: 'tick.input' },
        { from: 'count.next', to: 'count.input', maxIterations: 10, until: 'converged or n > 100', onExhausted: 'fail' },
      ],
      entry: { routine: 'count', slot: 'input' },
    } satisfies FlowManifest);
  });

  it('round-trips: loadFlow(flow.toManifest()) compiles to the same flow', () => {
    const original = codeFlow();
    const loaded = loadFlow(original.toManifest(), { routines });
    expect(structure(loaded.compile())).toEqual(structure(original.compile()));
    expect(loaded.toManifest()).toEqual(original.toManifest());
  });

  it('round-trips a flow loaded from YAML, which then behaves the same when run', async () => {
    const yaml = `
id: loop
routines:
  fetch: { type: fetcher, config: { sourceName: '\${env.SOURCE:-S}' } }
  collect: { type: collector, policy: { type: batch, n: 2 } }
  count: { type: counter, config: { target: 3 } }
connections:
  - { from: fetch.output, to: collect.input }
  - { from: count.next, to: count.input, maxIterations: 10, until: "converged == true and n != 'x'" }
entry: { routine: count, slot: input }
`;
    const first = loadFlow(yaml, { routines, env: { SOURCE: 'from-env' } });
    const manifest = first.toManifest();
    expect(manifest.routines.fetch).toEqual({ type: 'fetcher', config: { sourceName: 'from-env' } } satisfies RoutineManifest);
    const second = loadFlow(manifest, { routines, env: {} });
    expect(structure(second.compile())).toEqual(structure(first.compile()));

    const run = async (flow: typeof first) => {
      const job = newRuntime().exec(flow, { params: { n: 0, converged: false }, keepAlive: true });
      for (const n of [1, 2, 3]) job.post('fetch', 'trigger', { n });
      job.complete();
      const { status, outputs, cycles, routines: r } = await job.wait({ timeoutMs: 10_000 });
      return { status, outputs, cycles, activations: Object.fromEntries(Object.entries(r).map(([id, s]) => [id, s.activations])), pending: r.collect?.pending };
    };
    const [a, b] = [await run(first), await run(second)];
    expect(b).toEqual(a);
    expect(a.cycles['count.next->count.input']).toEqual({ iterations: 2, converged: true });
    expect(a.outputs['collect.collected']).toEqual([{ items: ['from-env:1', 'from-env:2'] }]);
  });

  it('writes a literal ${ in a config string as $${, so loading it back gives the same text', () => {
    // `${ {a}` would be read as a (malformed) reference; a `${` with no `}` after it is read as it is.
    const literal = 'price: ${env.PRICE} $${x} ${ {a} ${';
    const flow = createFlow('literal').add('fetch', fetcher, { config: { sourceName: literal } });
    const manifest = flow.toManifest();
    expect(manifest.routines.fetch?.config).toEqual({ sourceName: 'price: $${env.PRICE} $$${x} $${ {a} ${' });
    const loaded = loadFlow(manifest, { routines, env: { PRICE: 'substituted' } });
    expect(loaded.compile().routines.get('fetch')?.config.sourceName).toBe(literal);
  });

  it('is also a function of compiled flows', () => {
    const compiled = codeFlow().compile();
    expect(toManifest(compiled)).toEqual(codeFlow().toManifest());
    expect(toManifest(codeFlow())).toEqual(codeFlow().toManifest());
  });

  it('fails with a ManifestError naming every part that has no manifest form', () => {
    const custom = policies.custom({ name: 'whenFull', ready: (q) => (q.input?.length ?? 0) > 5 });
    const flow = createFlow('unwritable')
      .add('fetch', fetcher, { config: { sourceName: 'x', url: new URL('http://example.org') as unknown as string } })
      .add('collect', collector, { policy: custom, onError: { retry: { max: 1, when: () => true } } })
      .add('count', counter)
      .connect('fetch.output', 'collect.input')
      .connect('count.next', 'count.input', { maxIterations: 5, until: (p) => p.converged })
      .onError({ retry: { max: 1, when: () => false } });
    let caught: unknown;
    try {
      flow.toManifest();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ManifestError);
    const error = caught as ManifestError;
    expect(error.problems.map((p) => p.path)).toEqual(['routines.fetch.config.url', 'routines.collect.policy', 'routines.collect.onError.retry.when', 'connections[1].until', 'defaults.onError.retry.when']);
    expect(error.problems[0]!.message).toBe('a URL is not plain JSON data; only JSON values can be written to a manifest');
    expect(error.problems[1]!.message).toContain("routine 'collect' has custom policy 'whenFull'");
    expect(error.problems[3]!.message).toContain("edge 'count.next->count.input' has an `until` function");
    expect(error.message).toContain("Manifest 'unwritable (toManifest)' is invalid (5 problems)");
  });

  it("writes nothing for a custom policy the routine definition itself declares, and loads it back", () => {
    const pairs = policies.custom({ name: 'pairs', ready: (q) => (q.input?.length ?? 0) >= 2, take: () => ({ input: 2 }) });
    const pairwise = defineRoutine({ name: 'pairwise', slots: ['input'], events: { out: ['items'] }, policy: pairs, run() {} });
    const flow = createFlow('plain').add('p', pairwise).add('count', counter).connect('count.next', 'count.input', { maxIterations: 3 });
    const manifest = flow.toManifest();
    expect(manifest).toEqual({
      id: 'plain',
      routines: { p: { type: 'pairwise' }, count: { type: 'counter' } },
      connections: [{ from: 'count.next', to: 'count.input', maxIterations: 3 }],
      entry: { routine: 'p', slot: 'input' },
    });
    const loaded = loadFlow(manifest, { routines: createRoutineRegistry([pairwise, counter]) });
    expect(loaded.compile().routines.get('p')?.policy).toBe(pairs);
  });

  it('throws FlowValidationError for an invalid flow', () => {
    const flow = createFlow('bad').add('a', counter).add('b', counter).connect('a.next', 'b.input').connect('b.next', 'a.input');
    expect(() => flow.toManifest()).toThrow(FlowValidationError);
  });
});

// Random manifests over the test routines: loading one, writing it back and loading that gives the same flow.
const strategy = fc.oneof(
  fc.constantFrom('stop' as const, 'continue' as const, 'skip' as const),
  fc.record(
    { retry: fc.record({ max: fc.nat(5), backoffMs: fc.nat(100), factor: fc.constantFrom(1, 1.5, 2), maxBackoffMs: fc.nat(1000) }, { requiredKeys: ['max'] }), then: fc.constantFrom('stop' as const, 'continue' as const, 'skip' as const) },
    { requiredKeys: ['retry'] },
  ),
);
const policy = fc.oneof(
  fc.constantFrom('immediate' as const, 'allReady' as const, { type: 'immediate' as const }),
  fc.record({ type: fc.constant('batch' as const), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ type: fc.constant('interval' as const), ms: fc.integer({ min: 1, max: 500 }) }),
  fc.record({ type: fc.constant('window' as const), ms: fc.integer({ min: 1, max: 500 }) }),
);
const routineManifest = fc.record(
  {
    type: fc.constant('counter'),
    config: fc.record({ target: fc.integer({ min: 0, max: 9 }) }),
    policy,
    onError: strategy,
    timeoutMs: fc.nat(10_000),
    maxQueue: fc.integer({ min: 1, max: 2_000 }),
  },
  { requiredKeys: ['type'] },
);
const manifest = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 4 }).chain((ids) =>
  fc.record({
    id: fc.constant('random'),
    defaults: fc.record({ onError: strategy }, { requiredKeys: [] }),
    routines: fc.tuple(...ids.map(() => routineManifest)).map((list) => Object.fromEntries(ids.map((id, i) => [id, list[i]!]))),
    connections: fc.array(
      fc.record({
        from: fc.constantFrom(...ids).map((id) => `${id}.next`),
        to: fc.constantFrom(...ids).map((id) => `${id}.input`),
        maxIterations: fc.integer({ min: 1, max: 50 }),
        until: fc.constantFrom('converged', 'n >= 3 and not converged', "n == 'x' or (n < 2)"),
        onExhausted: fc.constantFrom('continue' as const, 'fail' as const),
      }),
      { maxLength: 4 },
    ).map((list) => list.map((c, i) => ({ ...c, name: `e${i}` }))),
    entry: fc.constantFrom(...ids).map((routine) => ({ routine })),
  }),
);

describe('flow.toManifest (properties)', () => {
  it('writes any config text so that loadFlow reads back the same text, references and escapes included', () => {
    const holder = defineRoutine({ name: 'holder', slots: ['in'], events: {}, config: { text: '', nested: { list: [] as string[] } }, run: () => undefined });
    const registry = createRoutineRegistry([holder]);
    const text = fc.string({ unit: fc.constantFrom('$', '{', '}', 'env.', 'A', ':-', ' '), maxLength: 24 });
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 3 }), (sourceText, list) => {
        const config = { text: sourceText, nested: { list } };
        const flow = createFlow('text').add('hold', holder, { config });
        expect(loadFlow(flow.toManifest(), { routines: registry, env: { A: 'substituted' } }).compile().routines.get('hold')?.config).toEqual(config);
      }),
      { numRuns: 300 },
    );
  });
  it('loadFlow(toManifest(loadFlow(m))) compiles to the same flow as loadFlow(m)', () => {
    fc.assert(
      fc.property(manifest, (m) => {
        const first = loadFlow(m, { routines });
        const written = first.toManifest();
        const second = loadFlow(written, { routines });
        expect(structure(second.compile())).toEqual(structure(first.compile()));
        expect(second.toManifest()).toEqual(written);
      }),
      { numRuns: 150 },
    );
  });
});
