/* eslint-disable @typescript-eslint/require-await -- every contender's step is a trivial async function on purpose (the shape being measured), and sessions open asynchronously */
/**
 * Peers, loaded from bench/node_modules (bench/package.json: `cd bench && npm install`). Each loader throws
 * when its packages are absent or fail to load; the harness prints the reason and goes on without the peer.
 * The peers' modules are imported by a computed specifier so that the library's typecheck never needs them.
 */
import { readFile } from 'node:fs/promises';
import type { Contender, Session } from '../lib/types.js';
import { expect, runPool, sleep } from '../lib/util.js';

interface N {
  n: number;
}

async function importPeer<T>(specifier: string): Promise<T> {
  return (await import(specifier)) as T;
}

async function peerVersion(pkg: string): Promise<string> {
  try {
    const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function session(verify: () => Promise<void>, run: (count: number) => Promise<void>): Session {
  return { verify, run, close: () => Promise.resolve() };
}

// ---------------------------------------------------------------------------------------------- LangGraph.js

interface LgState {
  n: number;
  hits: number;
}
type LgNode = (state: LgState) => Promise<Partial<LgState>>;
interface LgGraph {
  addNode(name: string, node: LgNode): LgGraph;
  addEdge(from: string | string[], to: string): LgGraph;
  addConditionalEdges(from: string, route: (state: LgState) => string): LgGraph;
  compile(): LgCompiled;
}
interface LgCompiled {
  invoke(input: Partial<LgState>, config?: { recursionLimit?: number }): Promise<LgState>;
}
interface LgModule {
  StateGraph: new (annotation: unknown) => LgGraph;
  Annotation: {
    <T>(options?: { reducer: (a: T, b: T) => T; default: () => T }): unknown;
    Root(fields: Record<string, unknown>): unknown;
  };
  START: string;
  END: string;
}

export async function loadLangGraph(): Promise<Contender> {
  const lg = await importPeer<LgModule>('@langchain/langgraph');
  const version = await peerVersion('@langchain/langgraph');
  const { StateGraph, Annotation, START, END } = lg;
  const State = Annotation.Root({
    n: Annotation<number>(),
    // fan-out branches write concurrently: a reducer channel
    hits: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
  });
  const inc: LgNode = async (state) => ({ n: state.n + 1 });

  const linear = (steps: number): LgCompiled => {
    let graph = new StateGraph(State);
    for (let i = 0; i < steps; i++) graph = graph.addNode(`s${i}`, inc);
    graph = graph.addEdge(START, 's0');
    for (let i = 0; i + 1 < steps; i++) graph = graph.addEdge(`s${i}`, `s${i + 1}`);
    return graph.addEdge(`s${steps - 1}`, END).compile();
  };

  return {
    name: 'LangGraph.js',
    role: 'peer',
    version: `@langchain/langgraph ${version}`,
    skip: {
      scale: 'no open-job/post equivalent measured (interrupts need a checkpointer)',
      soak: 'soak covers slotflow and the baselines (100k LangGraph jobs would take minutes)',
    },

    async chain() {
      const app = linear(5);
      return session(
        async () => { expect((await app.invoke({ n: 0 })).n === 5, 'chain result'); },
        async (count) => {
          for (let i = 0; i < count; i++) await app.invoke({ n: 0 });
        },
      );
    },

    async cycle(target) {
      // the loop as a conditional edge; every iteration is one superstep, so raise recursionLimit past it
      const app = new StateGraph(State)
        .addNode('loop', inc)
        .addEdge(START, 'loop')
        .addConditionalEdges('loop', (state) => (state.n >= target ? END : 'loop'))
        .compile();
      const config = { recursionLimit: 10_000 + 10 };
      return session(
        async () => { expect((await app.invoke({ n: 0 }, config)).n === target, 'cycle result'); },
        async (count) => {
          for (let i = 0; i < count; i++) await app.invoke({ n: 0 }, config);
        },
      );
    },

    async fanout({ jobs, inFlight, branchMs }) {
      let graph = new StateGraph(State).addNode('fork', inc);
      const branches = ['b0', 'b1', 'b2', 'b3'];
      for (const b of branches) {
        graph = graph.addNode(b, async () => {
          await sleep(branchMs);
          return { hits: 1 };
        });
      }
      graph = graph.addNode('join', async (state) => ({ n: state.n + state.hits })).addEdge(START, 'fork');
      for (const b of branches) graph = graph.addEdge('fork', b);
      // an edge from a list of nodes waits for all of them: LangGraph's join
      const app = graph.addEdge(branches, 'join').addEdge('join', END).compile();
      return session(
        async () => { expect((await app.invoke({ n: 0 })).n === 5, 'fan-out join'); },
        async (count) => {
          for (let i = 0; i < count; i++) await runPool(jobs, inFlight, () => app.invoke({ n: 0 }));
        },
      );
    },

    async throughput({ inFlight }) {
      const app = linear(3);
      return session(
        async () => { expect((await app.invoke({ n: 0 })).n === 3, 'chain3 result'); },
        (count) => runPool(count, inFlight, () => app.invoke({ n: 0 })),
      );
    },
  };
}

// --------------------------------------------------------------------------------------------------- Mastra

interface ZodObject {
  _zod?: unknown;
}
interface ZodModule {
  z: {
    object(shape: Record<string, unknown>): ZodObject;
    number(): unknown;
  };
}
interface MastraStep {
  id: string;
}
interface MastraWorkflow {
  then(step: MastraStep): MastraWorkflow;
  parallel(steps: MastraStep[]): MastraWorkflow;
  dountil(step: MastraStep, condition: (args: { inputData: N }) => Promise<boolean>): MastraWorkflow;
  commit(): MastraWorkflow;
  createRunAsync(): Promise<{ start(args: { inputData: unknown }): Promise<{ status: string; result?: unknown; error?: unknown }> }>;
}
interface MastraModule {
  createStep: (options: {
    id: string;
    inputSchema: ZodObject;
    outputSchema: ZodObject;
    execute: (args: { inputData: never }) => Promise<unknown>;
  }) => MastraStep;
  createWorkflow: (options: { id: string; inputSchema: ZodObject; outputSchema: ZodObject }) => MastraWorkflow;
}

export async function loadMastra(): Promise<Contender> {
  const mastra = await importPeer<MastraModule>('@mastra/core/workflows');
  const { z } = await importPeer<ZodModule>('zod');
  const version = await peerVersion('@mastra/core');
  const { createStep, createWorkflow } = mastra;
  const NSchema = z.object({ n: z.number() });
  const incStep = (id: string): MastraStep =>
    createStep({ id, inputSchema: NSchema, outputSchema: NSchema, execute: async ({ inputData }: { inputData: N }) => ({ n: inputData.n + 1 }) });

  const linear = (id: string, steps: number): MastraWorkflow => {
    let workflow = createWorkflow({ id, inputSchema: NSchema, outputSchema: NSchema });
    for (let i = 0; i < steps; i++) workflow = workflow.then(incStep(`s${i}`));
    return workflow.commit();
  };

  const runOnce = async (workflow: MastraWorkflow, inputData: unknown): Promise<unknown> => {
    const run = await workflow.createRunAsync();
    const result = await run.start({ inputData });
    if (result.status !== 'success') throw new Error(`mastra run ${result.status}: ${String(result.error)}`);
    return result.result;
  };

  return {
    name: 'Mastra',
    role: 'peer',
    version: `@mastra/core ${version}`,
    skip: {
      scale: 'no open-job/post equivalent measured (suspend/resume needs storage)',
      soak: 'soak covers slotflow and the baselines',
    },

    async chain() {
      const workflow = linear('chain5', 5);
      return session(
        async () => { expect(((await runOnce(workflow, { n: 0 })) as N).n === 5, 'chain result'); },
        async (count) => {
          for (let i = 0; i < count; i++) await runOnce(workflow, { n: 0 });
        },
      );
    },

    async cycle(target) {
      const workflow = createWorkflow({ id: 'cycle', inputSchema: NSchema, outputSchema: NSchema })
        .dountil(incStep('loop'), async ({ inputData }) => inputData.n >= target)
        .commit();
      return session(
        async () => { expect(((await runOnce(workflow, { n: 0 })) as N).n === target, 'cycle result'); },
        async (count) => {
          for (let i = 0; i < count; i++) await runOnce(workflow, { n: 0 });
        },
      );
    },

    async fanout({ jobs, inFlight, branchMs }) {
      const branches = ['b0', 'b1', 'b2', 'b3'].map((id) =>
        createStep({
          id,
          inputSchema: NSchema,
          outputSchema: NSchema,
          execute: async ({ inputData }: { inputData: N }) => {
            await sleep(branchMs);
            return { n: inputData.n + 1 };
          },
        }),
      );
      const join = createStep({
        id: 'join',
        inputSchema: z.object({ b0: NSchema, b1: NSchema, b2: NSchema, b3: NSchema }),
        outputSchema: NSchema,
        execute: async ({ inputData }: { inputData: Record<string, N> }) => ({
          n: Object.values(inputData).reduce((sum, b) => sum + b.n, 0),
        }),
      });
      const workflow = createWorkflow({ id: 'fanout', inputSchema: NSchema, outputSchema: NSchema })
        .then(incStep('fork'))
        .parallel(branches)
        .then(join)
        .commit();
      return session(
        async () => { expect(((await runOnce(workflow, { n: 0 })) as N).n === 8, 'fan-out join'); },
        async (count) => {
          for (let i = 0; i < count; i++) await runPool(jobs, inFlight, () => runOnce(workflow, { n: 0 }));
        },
      );
    },

    async throughput({ inFlight }) {
      const workflow = linear('chain3', 3);
      return session(
        async () => { expect(((await runOnce(workflow, { n: 0 })) as N).n === 3, 'chain3 result'); },
        (count) => runPool(count, inFlight, () => runOnce(workflow, { n: 0 })),
      );
    },
  };
}
