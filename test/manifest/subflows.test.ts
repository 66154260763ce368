import { describe, expect, it } from 'vitest';
import { asRoutine, createFlow, ManifestError, policies, toManifest, toMermaid } from 'slotflow';
import { createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { useRuntimes } from '../helpers/runtimes.js';
import { collector, fetcher } from './routines.js';

const routines = createRoutineRegistry([fetcher, collector]);
const newRuntime = useRuntimes();

function problemsOf(text: string): string[] {
  try {
    loadFlow(text, { routines });
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ManifestError');
}

const NIGHTLY = `
id: nightly
routines:
  first:  { type: fetcher, config: { sourceName: A } }
  etl:    { type: 'flow:etl', slots: { rows: fetch.trigger }, events: { done: fetch.output } }
  report: { type: collector }
connections:
  - { from: first.output, to: etl.rows }
  - { from: etl.done, to: report.input }
flows:
  etl:
    routines:
      fetch:   { type: fetcher, config: { sourceName: B } }
      collect: { type: collector }
    connections:
      - { from: fetch.output, to: collect.input }
`;

describe('manifests: subflows', () => {
  it('runs a flow of the flows section as a routine (type: flow:<id>)', async () => {
    const flow = loadFlow(NIGHTLY, { routines });
    const rt = newRuntime();
    const job = rt.exec(flow, { params: { n: 1 } });
    const newRuntimeJobs = (parent: typeof job) => rt.listJobs({ parentId: parent.id });
    const state = await job.wait();
    expect(state.status).toBe('completed');
    // first's { data: 'A:1' } reaches the child's fetch.trigger (it reads no `n` from it); the child's fetch.output
    // comes back as etl.done, and report collects its data.
    expect(state.outputs['report.collected']).toEqual([{ items: ['B:undefined'] }]);
    const [child] = newRuntimeJobs(job);
    expect(child?.state.outputs['collect.collected']).toEqual([{ items: ['B:undefined'] }]);
    expect(toMermaid(flow)).toContain('subgraph etl__flow["etl (subflow of etl)"]');
  });

  it('reports unknown flows, bad mappings and mappings on plain routines', () => {
    const problems = problemsOf(`
id: main
routines:
  a: { type: 'flow:nope', slots: { x: a.b } }
  b: { type: 'flow:sub', slots: { in: fetch.trigerr } }
  c: { type: fetcher, slots: { x: a.b } }
flows:
  sub:
    routines:
      fetch: { type: fetcher }
`);
    expect(problems).toEqual([
      "routines.a.type: unknown flow 'nope'; expected one of 'flow:sub' (the flows section)",
      expect.stringMatching(/^routines\.b: Expected `asRoutine\(flow 'sub'\) slots\.in` to be a slot of flow 'sub' as '<routine>\.<slot>' \(did you mean 'fetch\.trigger'\?\)/),
      "routines.c.slots: only a subflow (type: flow:<id>) maps slots; routine type 'fetcher' declares its own",
    ]);
  });

  it('reports a flow that contains itself, directly or through another flow', () => {
    expect(
      problemsOf(`
id: main
routines:
  a: { type: 'flow:one', slots: { in: x.trigger } }
flows:
  one:
    routines:
      x: { type: 'flow:two', slots: { trigger: y.trigger } }
  two:
    routines:
      y: { type: 'flow:one', slots: { trigger: x.trigger } }
`),
    ).toContain("flows.two.routines.y.type: flow 'one' contains itself (one -> two -> one); a flow cannot run inside its own jobs");
    expect(problemsOf(`
id: main
routines:
  a: { type: 'flow:main', slots: { in: a.in } }
`)).toContain("routines.a.type: flow 'main' contains itself (main -> main); a flow cannot run inside its own jobs");
  });

  it('writes subflows back: type flow:<id>, the mappings and a flows section, which loads again', () => {
    const manifest = toManifest(loadFlow(NIGHTLY, { routines }));
    expect(manifest.routines.etl).toEqual({ type: 'flow:etl', slots: { rows: 'fetch.trigger' }, events: { done: 'fetch.output' } });
    expect(manifest.flows?.etl?.routines.fetch).toEqual({ type: 'fetcher', config: { sourceName: 'B' } });
    expect(toManifest(loadFlow(manifest, { routines }))).toEqual(manifest);

    // Built in code, two deep, with per-instance settings on the subflow routines.
    const inner = createFlow('inner').add('collect', collector);
    const middle = createFlow('middle').add('fetch', fetcher).add('sub', asRoutine(inner, { name: 'innerStep', slots: { in: 'collect.input' } }), { maxQueue: 7 }).connect('fetch.output', 'sub.in');
    const outer = createFlow('outer').add('mid', asRoutine(middle, { name: 'midStep', slots: { go: 'fetch.trigger' } }), { policy: policies.batch(2), timeoutMs: 500 });
    const written = toManifest(outer);
    expect(written.routines.mid).toEqual({ type: 'flow:middle', slots: { go: 'fetch.trigger' }, policy: { type: 'batch', n: 2 }, timeoutMs: 500 });
    expect(Object.keys(written.flows ?? {})).toEqual(['middle', 'inner']);
    expect(written.flows?.middle?.routines.sub).toEqual({ type: 'flow:inner', slots: { in: 'collect.input' }, maxQueue: 7 });
    expect(toManifest(loadFlow(written, { routines }))).toEqual(written);
  });
});
