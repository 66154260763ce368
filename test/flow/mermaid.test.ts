import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFlow, defineRoutine, policies, toMermaid, type FlowBuilder, type RoutineMap } from 'slotflow';
import { compileExpression } from 'slotflow/manifest';

const fetcher = defineRoutine({ name: 'fetcher', slots: ['trigger'], events: { output: ['data'] }, run() {} });
const collector = defineRoutine({ name: 'collector', slots: ['input', 'extra'], events: { collected: ['items'], done: [] }, run() {} });
const optimizer = defineRoutine({ name: 'optimizer', slots: ['input'], events: { next: ['value', 'converged'] }, run() {} });
const sink = defineRoutine({ name: 'sink', slots: ['in'], run() {} });

const ID = '[A-Za-z][A-Za-z0-9_]*';
const NODE = new RegExp(`^  (${ID})\\["([^"]*)"\\]$`);
const EDGE = new RegExp(`^  (${ID}) (-->|-\\.->)\\|"([^"]*)"\\| (${ID})$`);
const ENTRY_NODE = '  entry(["entry"])';

/** Checks Mermaid text structurally: the header, then node and edge lines whose labels are balanced and escaped. */
function checkMermaid(text: string): { nodes: Map<string, string>; edges: { from: string; arrow: string; label: string; to: string }[] } {
  const lines = text.split('\n');
  expect(lines.slice(0, 4).map((l, i) => (i === 1 ? l.replace(/^title: (".*")$/, (_, t: string) => `title: ${typeof JSON.parse(t)}`) : l))).toEqual(['---', 'title: string', '---', 'flowchart LR']);
  const nodes = new Map<string, string>();
  const edges: { from: string; arrow: string; label: string; to: string }[] = [];
  for (const line of lines.slice(4)) {
    const node = NODE.exec(line);
    const edge = EDGE.exec(line);
    if (line === ENTRY_NODE) nodes.set('entry', 'entry');
    else if (node) {
      expect(nodes.has(node[1]!), `node ${node[1]!} declared once`).toBe(false);
      nodes.set(node[1]!, node[2]!);
    } else if (edge) edges.push({ from: edge[1]!, arrow: edge[2]!, label: edge[3]!, to: edge[4]! });
    else expect.fail(`not a node or edge line: ${JSON.stringify(line)}`);
  }
  for (const label of [...nodes.values(), ...edges.map((e) => e.label)]) {
    // Only <br/> as markup; every # starts an entity; no raw pipe, quote, backtick or newline.
    expect(label.replaceAll('<br/>', '')).not.toMatch(/[<"|`\n]/);
    expect(label.replace(/#(quot|lt|amp|35|124|96);/g, '')).not.toContain('#');
  }
  for (const e of edges) {
    expect(nodes.has(e.from), `edge source ${e.from} is a node`).toBe(true);
    expect(nodes.has(e.to), `edge target ${e.to} is a node`).toBe(true);
  }
  return { nodes, edges };
}

const knownFlow = () =>
  createFlow('fetch_flow')
    .add('fetch', fetcher)
    .add('collect', collector, { policy: policies.batch(10, { slots: ['input'] }) })
    .add('opt', optimizer, { policy: policies.window(50) })
    .connect('fetch.output', 'collect.input')
    .connect('fetch.output', 'opt.input')
    .connect('opt.next', 'opt.input', { maxIterations: 100, until: compileExpression('converged == true') })
    .entry('fetch', 'trigger');

describe('flow.toMermaid', () => {
  it('draws one node per routine, one edge per connection, and the entry', () => {
    expect(knownFlow().toMermaid().split('\n')).toEqual([
      '---',
      'title: "fetch_flow"',
      '---',
      'flowchart LR',
      '  entry(["entry"])',
      '  fetch["fetch: fetcher<br/>slots: trigger<br/>events: output<br/>policy: immediate"]',
      '  collect["collect: collector<br/>slots: input, extra<br/>events: collected, done<br/>policy: batch(n: 10, slots: [input])"]',
      '  opt["opt: optimizer<br/>slots: input<br/>events: next<br/>policy: window(ms: 50)"]',
      '  entry -->|"trigger"| fetch',
      '  fetch -->|"output -> input"| collect',
      '  fetch -->|"output -> input"| opt',
      '  opt -.->|"next -> input<br/>max 100<br/>until converged == true"| opt',
    ]);
    checkMermaid(knownFlow().toMermaid());
  });

  it('draws a compiled flow the same way (toMermaid(flow))', () => {
    const builder = knownFlow();
    expect(toMermaid(builder.compile())).toBe(knownFlow().toMermaid());
    expect(toMermaid(knownFlow())).toBe(builder.toMermaid());
  });

  it('shows custom policies, until functions, onExhausted fail, and escapes special characters', () => {
    const flow = createFlow('say "hi" <b>#1</b> | `x`')
      .add('my "node"', sink, { policy: policies.custom({ name: 'a|b & <c>', ready: () => false }) })
      .add('end', optimizer)
      .connect('end.next', 'end.input', { maxIterations: 3, until: (p) => p.converged === true, onExhausted: 'fail' })
      .connect('end.next', 'my "node".in' as never, { maxIterations: 2, until: compileExpression(`value < 1 and label != "a|b" or tag == '#x'`) });
    const text = flow.toMermaid();
    expect(text.split('\n')).toEqual([
      '---',
      'title: "say \\"hi\\" <b>#1</b> | `x`"',
      '---',
      'flowchart LR',
      '  entry(["entry"])',
      '  node_0["my #quot;node#quot;: sink<br/>slots: in<br/>events: (none)<br/>policy: a#124;b #amp; #lt;c> (custom)"]',
      '  node_1["end: optimizer<br/>slots: input<br/>events: next<br/>policy: immediate"]',
      '  entry -->|"in"| node_0',
      '  node_1 -.->|"next -> input<br/>max 3<br/>until (function)<br/>fails when exhausted"| node_1',
      '  node_1 -.->|"next -> in<br/>max 2<br/>until value #lt; 1 and label != #quot;a#124;b#quot; or tag == \'#35;x\'"| node_0',
    ]);
    checkMermaid(text);
  });

  it('draws a flow still being written, with nodes for routines it does not have yet', () => {
    const loose = createFlow('draft').add('a', sink) as unknown as { connect(from: string, to: string): FlowBuilder<RoutineMap> };
    const text = loose.connect('a.out', 'ghost.in').toMermaid();
    expect(text.split('\n').slice(4)).toEqual(['  entry(["entry"])', '  a["a: sink<br/>slots: in<br/>events: (none)<br/>policy: immediate"]', '  ghost["ghost: unknown routine"]', '  entry -->|"in"| a', '  a -->|"out -> in"| ghost']);
    checkMermaid(text);
  });

  it('gives fresh node ids that no routine id takes', () => {
    const text = createFlow('ids').add('node_0', sink).add('x y', sink).add('graph', sink).toMermaid();
    const { nodes } = checkMermaid(text);
    expect([...nodes.keys()]).toEqual(['entry', 'node_0', 'node_1', 'node_2']);
    expect(nodes.get('node_1')).toMatch(/^x y: sink/);
    expect(nodes.get('node_2')).toMatch(/^graph: sink/);
  });

  it('is structurally valid Mermaid for any routine ids, names and expressions', () => {
    const name = fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'Z', '_', '1', ' ', '"', "'", '#', '<', '>', '&', '|', '`', '[', ']', '(', ')', '{', '}', '\n', 'é', '-') });
    const part = name.filter((s) => !s.includes('.'));
    fc.assert(
      fc.property(fc.uniqueArray(part, { minLength: 1, maxLength: 4 }), part, part, fc.string({ maxLength: 12 }), (ids, slotName, eventName, text) => {
        const routine = defineRoutine({ name: `${slotName}${eventName}`, slots: [slotName], events: { [eventName]: ['v'] }, run() {} });
        let flow = createFlow(text || 'f') as unknown as { add(id: string, r: unknown, o?: object): typeof flow; connect(a: string, b: string, o?: object): typeof flow; toMermaid(): string };
        for (const id of ids) flow = flow.add(id, routine);
        ids.forEach((id, i) => {
          flow = flow.connect(`${id}.${eventName}`, `${ids[(i + 1) % ids.length]!}.${slotName}`, { maxIterations: 1, until: compileExpression(`v == ${JSON.stringify(text)}`) });
        });
        const { nodes, edges } = checkMermaid(flow.toMermaid());
        expect(nodes.size).toBe(ids.length + 1);
        expect(edges).toHaveLength(ids.length + 1);
      }),
      { numRuns: 200 },
    );
  });
});
