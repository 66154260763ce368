import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ManifestError, type ManifestProblem } from 'slotflow';
import { createRoutineRegistry, loadFlow, type FlowManifest } from 'slotflow/manifest';
import { useRuntimes } from '../helpers/runtimes.js';
import { collector, counter, fetcher, joiner } from './routines.js';

const routines = createRoutineRegistry([fetcher, collector, joiner, counter]);
const newRuntime = useRuntimes();

/** The ManifestError `fn` throws. */
function manifestError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return error as ManifestError;
  }
  throw new Error('expected a ManifestError');
}

const lines = (problems: readonly ManifestProblem[]) => problems.map((p) => `${p.path}: ${p.message}`);

const FETCH_FLOW = `
id: fetch_flow
routines:
  fetch:   { type: fetcher, config: { sourceName: Source0 }, onError: continue }
  collect: { type: collector, policy: { type: batch, n: 2 }, maxQueue: 500 }
connections:
  - { from: fetch.output, to: collect.input }
entry: { routine: fetch, slot: trigger }
`;

describe('loadFlow', () => {
  it('builds a flow from YAML that the runtime runs', async () => {
    const flow = loadFlow(FETCH_FLOW, { routines, env: {} });
    expect(flow.id).toBe('fetch_flow');
    const job = newRuntime().exec(flow, { keepAlive: true });
    job.post('fetch', 'trigger', { n: 1 });
    job.post('fetch', 'trigger', { n: 2 });
    job.post('fetch', 'trigger', { n: 3 });
    job.complete();
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(state.outputs['collect.collected']).toEqual([{ items: ['Source0:1', 'Source0:2'] }]);
    expect(state.routines.collect?.pending).toEqual({ input: [{ data: 'Source0:3', source: 'Source0' }] });
  });

  it('applies every per-instance setting of the manifest', () => {
    const compiled = loadFlow(FETCH_FLOW, { routines, env: {} }).compile();
    const fetch = compiled.routines.get('fetch')!;
    const collect = compiled.routines.get('collect')!;
    expect(fetch.routine).toBe(fetcher);
    expect(fetch.config).toEqual({ ...fetcher.config, sourceName: 'Source0' });
    expect(fetch.onError).toBe('continue');
    expect(fetch.policy.name).toBe('immediate');
    expect(collect.routine).toBe(collector);
    expect(collect.policy).toMatchObject({ name: 'batch', params: { n: 2 } });
    expect(collect.maxQueue).toBe(500);
    expect(compiled.entry).toEqual({ routine: 'fetch', slot: 'trigger' });
    expect(compiled.connections.map((c) => c.name)).toEqual(['fetch.output->collect.input']);
  });

  it('reads JSON text and manifest objects alike', () => {
    const manifest: FlowManifest = { id: 'j', routines: { a: { type: 'fetcher', timeoutMs: 250 }, b: { type: 'collector' } }, connections: [{ from: 'a.output', to: 'b.input' }] };
    for (const input of [manifest, JSON.stringify(manifest)]) {
      const compiled = loadFlow(input, { routines }).compile();
      expect(compiled.routines.get('a')?.timeoutMs).toBe(250);
      expect(compiled.entry).toEqual({ routine: 'a', slot: 'trigger' });
    }
  });

  it('builds every built-in policy from its manifest form', () => {
    const compiled = loadFlow(
      {
        id: 'policies',
        routines: {
          a: { type: 'joiner', policy: 'immediate' },
          b: { type: 'joiner', policy: 'allReady' },
          c: { type: 'joiner', policy: { type: 'allReady', slots: ['left'] } },
          d: { type: 'joiner', policy: { type: 'batch', n: 3, slots: ['left', 'right'] } },
          e: { type: 'joiner', policy: { type: 'interval', ms: 50 } },
          f: { type: 'joiner', policy: { type: 'window', ms: 20 } },
          g: { type: 'joiner', policy: { type: 'immediate' } },
        },
      },
      { routines },
    ).compile();
    const described = [...compiled.routines.values()].map((r) => [r.id, r.policy.name, r.policy.params]);
    expect(described).toEqual([
      ['a', 'immediate', {}],
      ['b', 'allReady', {}],
      ['c', 'allReady', { slots: ['left'] }],
      ['d', 'batch', { n: 3, slots: ['left', 'right'] }],
      ['e', 'interval', { ms: 50 }],
      ['f', 'window', { ms: 20 }],
      ['g', 'immediate', {}],
    ]);
  });

  it('sets the flow default error strategy and retry strategies', () => {
    const compiled = loadFlow(
      { id: 'e', defaults: { onError: 'skip' }, routines: { a: { type: 'fetcher', onError: { retry: { max: 2, backoffMs: 10, factor: 3, maxBackoffMs: 50 }, then: 'continue' } }, b: { type: 'fetcher' } } },
      { routines },
    ).compile();
    expect(compiled.onError).toBe('skip');
    expect(compiled.routines.get('a')?.onError).toEqual({ retry: { max: 2, backoffMs: 10, factor: 3, maxBackoffMs: 50 }, then: 'continue' });
    expect(compiled.routines.get('b')?.onError).toBeUndefined();
  });

  it('runs a cycle whose until is an expression over the payload', async () => {
    const flow = loadFlow(
      `
id: loop
routines:
  count: { type: counter, config: { target: 100 } }
connections:
  - { from: count.next, to: count.input, maxIterations: 50, until: 'n >= 7 and converged == false' }
`,
      { routines },
    );
    const state = await newRuntime().exec(flow, { params: { n: 0, converged: false } }).wait({ timeoutMs: 10_000 });
    expect(state.cycles['count.next->count.input']).toEqual({ iterations: 6, converged: true });
    expect(state.outputs['count.next']).toEqual([{ n: 7, converged: false }]);
  });

  it('names the source in the error', () => {
    const error = manifestError(() => loadFlow('id: x\nroutines: { a: { type: ghost } }', { routines, source: 'flows/x.yaml' }));
    expect(error.source).toBe('flows/x.yaml');
    expect(error.message).toContain("Manifest 'flows/x.yaml' is invalid (1 problem)");
    expect(error.message).toContain("routines.a.type: unknown routine type 'ghost'; expected one of 'fetcher', 'collector', 'joiner', 'counter'");
  });

  it('lists every problem of a document at once, each with its path, in document order', () => {
    const error = manifestError(() =>
      loadFlow(
        `
id: broken
colour: blue
routines:
  fetch:   { type: fetcher, onError: explode, timeoutMs: -5 }
  collect: { type: collector, policy: { type: batch, n: -1 }, maxQueu: 5 }
  join:    { type: joiner, policy: { type: sometimes } }
  ghost:   { type: phantom }
  short:   { type: collector, policy: batch }
connections:
  - { from: fetch.output, to: collect.input }
  - { from: fetch.outptu, to: nowhere.input }
  - { from: fetch, to: join.middle, until: 'n >' }
  - 7
entry: { routine: fetch, slot: trigger }
`,
        { routines },
      ),
    );
    expect(lines(error.problems)).toEqual([
      "routines.fetch.onError: expected 'stop', 'continue', 'skip' or { retry: { max }, then? }, got 'explode'",
      'routines.fetch.timeoutMs: expected a number of milliseconds from 0 and up, got -5',
      'routines.collect.policy.n: expected a positive integer, got -1',
      "routines.collect.maxQueu: unknown field 'maxQueu'; expected one of 'type', 'slots', 'events', 'config', 'policy', 'onError', 'timeoutMs', 'maxQueue', 'isolation', 'resourceLimits'",
      "routines.join.policy.type: unknown policy 'sometimes'; expected one of 'immediate', 'batch', 'allReady', 'interval', 'window'",
      "routines.ghost.type: unknown routine type 'phantom'; expected one of 'fetcher', 'collector', 'joiner', 'counter' (the registered routines)",
      "routines.short.policy: policy 'batch' takes parameters; write { type: batch, ... }",
      "connections[1].from: routine 'fetch' (type 'fetcher') has no event 'outptu'; expected one of 'output'",
      "connections[1].to: unknown routine 'nowhere' in 'nowhere.input'; expected one of 'fetch', 'collect', 'join', 'ghost', 'short'",
      "connections[2].from: expected '<routine>.<event>', got 'fetch'",
      "connections[2].to: routine 'join' (type 'joiner') has no slot 'middle'; expected one of 'left', 'right'",
      'connections[2].until: syntax error at column 4 of "n >": expected a value after \'>\', got the end',
      'connections[3]: expected { from, to, name?, maxIterations?, until?, onExhausted? }, got 7',
      "colour: unknown field 'colour'; expected one of '$schema', 'id', 'defaults', 'routines', 'connections', 'entry', 'flows' (or any x-* field, ignored)",
    ]);
    expect(error.message.split('\n')).toHaveLength(1 + error.problems.length);
    expect(error.message).toContain('is invalid (14 problems)');
  });

  it('reports an unknown entry routine or slot', () => {
    expect(lines(manifestError(() => loadFlow({ id: 'e', routines: { a: { type: 'fetcher' } }, entry: { routine: 'b' } }, { routines })).problems)).toEqual([
      "entry.routine: unknown routine 'b'; expected one of 'a'",
    ]);
    expect(lines(manifestError(() => loadFlow({ id: 'e', routines: { a: { type: 'fetcher' } }, entry: { routine: 'a', slot: 'go' } }, { routines })).problems)).toEqual([
      "entry.slot: routine 'a' (type 'fetcher') has no slot 'go'; expected one of 'trigger'",
    ]);
  });

  it("checks a policy's slots against the routine's", () => {
    const error = manifestError(() => loadFlow({ id: 'p', routines: { j: { type: 'joiner', policy: { type: 'batch', n: 2, slots: ['left', 'centre'] } } } }, { routines }));
    expect(lines(error.problems)).toEqual(["routines.j.policy.slots[1]: routine 'j' (type 'joiner') has no slot 'centre'; expected one of 'left', 'right'"]);
  });

  it('reports problems of the flow as a whole: an unbounded cycle, a connection name used twice', () => {
    const error = manifestError(() =>
      loadFlow(
        {
          id: 'cyc',
          routines: { a: { type: 'counter' }, b: { type: 'counter' } },
          connections: [
            { from: 'a.next', to: 'b.input', name: 'x' },
            { from: 'b.next', to: 'a.input', name: 'x' },
          ],
        },
        { routines },
      ),
    );
    expect(error.problems.map((p) => p.path)).toEqual(['connections[1].name', 'connections[1]']);
    expect(error.problems[1]!.message).toContain('unbounded cycle (a -> b -> a)');
  });

  it('reports until or onExhausted without maxIterations', () => {
    const error = manifestError(() => loadFlow({ id: 'u', routines: { a: { type: 'counter' } }, connections: [{ from: 'a.next', to: 'a.input', until: 'converged' }] }, { routines }));
    expect(error.problems.map((p) => p.path)).toContain('connections[0].maxIterations');
  });

  it('reports YAML syntax errors with their line and column', () => {
    const error = manifestError(() => loadFlow('id: x\nroutines:\n  a: { type: fetcher\n', { routines }));
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]!.path).toBe('');
    expect(error.problems[0]!.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    expect(error.message).toContain('(root): YAML syntax error');
  });

  it('reads YAML merge keys, with anchors kept in top-level x-* fields, which are ignored', () => {
    const flow = loadFlow(
      `
x-fetch: &fetch { type: fetcher, onError: continue, config: { sourceName: S, retries: 5 } }
id: merged
routines:
  a: { <<: *fetch }
  b: { <<: *fetch, config: { sourceName: T } }
  c: { type: collector }
connections:
  - { from: a.output, to: c.input }
  - { from: b.output, to: c.input }
`,
      { routines },
    ).compile();
    expect([...flow.routines.values()].map((r) => [r.id, r.routine.name, r.onError, r.config])).toEqual([
      ['a', 'fetcher', 'continue', { sourceName: 'S', retries: 5, verbose: false, url: 'http://localhost' }],
      ['b', 'fetcher', 'continue', { sourceName: 'T', retries: 3, verbose: false, url: 'http://localhost' }],
      ['c', 'collector', undefined, {}],
    ]);
    // Only top-level x-* fields are ignored; any other unknown field is still a problem.
    expect(lines(manifestError(() => loadFlow({ id: 'x', 'x-note': 1, extra: 2, routines: { a: { type: 'fetcher', 'x-note': 3 } } } as unknown as FlowManifest, { routines })).problems)).toEqual([
      "routines.a.x-note: unknown field 'x-note'; expected one of 'type', 'slots', 'events', 'config', 'policy', 'onError', 'timeoutMs', 'maxQueue', 'isolation', 'resourceLimits'",
      "extra: unknown field 'extra'; expected one of '$schema', 'id', 'defaults', 'routines', 'connections', 'entry', 'flows' (or any x-* field, ignored)",
    ]);
  });

  it('reports an alias bomb (YAML aliases expanding past the limit) as a problem, not a crash', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${'abcdefghi'.charAt(i)}: &${'abcdefghi'.charAt(i)} [${Array(10).fill(`*${'abcdefghi'.charAt(i - 1)}`).join(', ')}]`);
    const error = manifestError(() => loadFlow(`x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\nid: bomb\nroutines: {}\n`, { routines }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.path).toBe('');
    expect(error.problems[0]!.message).toMatch(/^YAML document cannot be read: .*alias/i);
    expect(manifestError(() => loadFlow('id: m\nroutines:\n  a: { <<: 5, type: fetcher }\n', { routines })).problems).toEqual([
      { path: '', message: 'YAML document cannot be read: Merge sources must be maps or map aliases' },
    ]);
  });

  it('rejects a document that is not a manifest object, and a missing id and routines', () => {
    expect(manifestError(() => loadFlow('just text', { routines })).problems).toEqual([
      { path: '', message: "expected a manifest object { id, routines, connections?, entry?, defaults?, flows? }, got 'just text'" },
    ]);
    expect(lines(manifestError(() => loadFlow({} as FlowManifest, { routines })).problems)).toEqual([
      'id: missing; expected a flow id (a non-empty string)',
      'routines: missing; expected a mapping of routine id -> { type, ... }',
    ]);
  });

  it("reports a routine id with a '.' in it", () => {
    const error = manifestError(() => loadFlow({ id: 'd', routines: { 'a.b': { type: 'fetcher' } } }, { routines }));
    expect(error.problems.map((p) => p.message)).toEqual(["invalid key: a routine id must be non-empty and contain no '.'"]);
  });

  it('needs a routine registry', () => {
    expect(() => loadFlow(FETCH_FLOW, { routines: {} as never })).toThrow(InvalidOptionError);
  });

  it('returns a flow builder a runtime registers by id', async () => {
    const flow = loadFlow(FETCH_FLOW, { routines, env: {} });
    expect(flow.validate()).toEqual([]);
    const runtime = newRuntime().register(flow);
    const state = await runtime.exec('fetch_flow', { params: { n: 1 } }).wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(state.routines.collect?.pending).toEqual({ input: [{ data: 'Source0:1', source: 'Source0' }] });
  });
});
