/* eslint-disable @typescript-eslint/require-await -- every contender's step is a trivial async function on purpose (the shape being measured), and sessions open asynchronously */
/**
 * The naive design on raw XState 5: one root machine per job, which invokes one `fromPromise` actor per step
 * (a promise actor per activation), as XSTATE-NOTES.md measured it (~80 µs per step).
 */
import { assign, createActor, fromPromise, setup, toPromise, type ActorRefFrom, type AnyStateMachine } from 'xstate';
import type { Contender, ScaleHandle, Session } from '../lib/types.js';
import { deferred, expect, runPool, sleep } from '../lib/util.js';

interface N {
  n: number;
}

const step = fromPromise<N, N>(async ({ input }) => ({ n: input.n + 1 }));

/** A machine that invokes `step` `steps` times in a line, then is done with the last output. */
function linearMachine(id: string, steps: number): AnyStateMachine {
  const states: Record<string, object> = {};
  for (let i = 0; i < steps; i++) {
    states[`s${i}`] = {
      invoke: {
        src: 'step',
        input: ({ context }: { context: N }) => context,
        onDone: { target: i + 1 < steps ? `s${i + 1}` : 'done', actions: 'store' },
      },
    };
  }
  states.done = { type: 'final' };
  const machine = setup({
    types: { context: {} as N, input: {} as N, output: {} as N },
    actors: { step },
    actions: {
      store: assign(({ event }) => ({ n: (event as unknown as { output: N }).output.n })),
    },
  }).createMachine({
    id,
    context: ({ input }: { input: N }) => ({ n: input.n }),
    initial: 's0',
    states,
    output: ({ context }: { context: N }) => context,
  } as never);
  return machine as unknown as AnyStateMachine;
}

async function runMachine(machine: AnyStateMachine, input: unknown): Promise<unknown> {
  const actor = createActor(machine, { input });
  const done = toPromise(actor);
  actor.start();
  return done;
}

function cycleMachine(target: number, maxIterations: number): AnyStateMachine {
  return setup({
    types: { context: {} as { n: number; iterations: number }, output: {} as { n: number; iterations: number } },
    actors: { step },
  }).createMachine({
    id: 'cycle',
    context: { n: 0, iterations: 0 },
    initial: 'loop',
    states: {
      loop: {
        invoke: {
          src: 'step',
          input: ({ context }) => ({ n: context.n }),
          onDone: [
            // convergence guard and bound, then the self-transition that re-invokes the step
            {
              guard: ({ event, context }) => event.output.n >= target || context.iterations >= maxIterations,
              target: 'done',
              actions: assign(({ event }) => ({ n: event.output.n })),
            },
            {
              target: 'loop',
              reenter: true,
              actions: assign(({ event, context }) => ({ n: event.output.n, iterations: context.iterations + 1 })),
            },
          ],
        },
      },
      done: { type: 'final' },
    },
    output: ({ context }) => context,
  });
}

function fanoutMachine(branchMs: number): AnyStateMachine {
  const branch = fromPromise<N, N>(async ({ input, signal }) => {
    await sleep(branchMs, signal);
    return { n: input.n + 1 };
  });
  const region = (id: string): object => ({
    initial: 'run',
    states: {
      run: {
        invoke: {
          src: 'branch',
          input: ({ context }: { context: { n: number } }) => ({ n: context.n }),
          onDone: { target: 'done', actions: assign(({ context, event }) => ({ sum: (context as { sum: number }).sum + (event as unknown as { output: N }).output.n })) },
        },
      },
      done: { type: 'final' },
    },
    id,
  });
  const machine = setup({
    types: { context: {} as { n: number; sum: number }, output: {} as { n: number; sum: number } },
    actors: { step, branch },
  }).createMachine({
    id: 'fanout',
    context: { n: 0, sum: 0 },
    initial: 'fork',
    states: {
      fork: {
        invoke: { src: 'step', input: ({ context }: { context: N }) => ({ n: context.n }), onDone: { target: 'branches', actions: assign(({ event }: { event: { output: N } }) => ({ n: event.output.n })) } },
      },
      branches: {
        type: 'parallel',
        states: { b0: region('b0'), b1: region('b1'), b2: region('b2'), b3: region('b3') },
        onDone: 'join',
      },
      join: {
        invoke: { src: 'step', input: ({ context }: { context: { sum: number } }) => ({ n: context.sum }), onDone: { target: 'done', actions: assign(({ event }: { event: { output: N } }) => ({ sum: event.output.n })) } },
      },
      done: { type: 'final' },
    },
    output: ({ context }: { context: { n: number; sum: number } }) => context,
  } as never);
  return machine as unknown as AnyStateMachine;
}

/** A keepAlive job in raw XState: waits in `idle` for POSTs (queued in context), COMPLETE ends it when idle. */
type KeepAliveEvent = { type: 'POST'; payload: N } | { type: 'COMPLETE' };
interface KeepAliveContext {
  queue: N[];
  closing: boolean;
  processed: number;
  onProcessed: () => void;
}
const keepAliveMachine = setup({
  types: {
    context: {} as KeepAliveContext,
    events: {} as KeepAliveEvent,
    input: {} as { onProcessed: () => void },
    output: {} as { processed: number },
  },
  actors: { step },
}).createMachine({
  id: 'keepAlive',
  context: ({ input }) => ({ queue: [], closing: false, processed: 0, onProcessed: input.onProcessed }),
  initial: 'idle',
  on: {
    POST: { actions: assign(({ context, event }) => ({ queue: [...context.queue, event.payload] })) },
    COMPLETE: { actions: assign({ closing: true }) },
  },
  states: {
    idle: {
      always: [
        { guard: ({ context }) => context.queue.length > 0, target: 'working' },
        { guard: ({ context }) => context.closing, target: 'done' },
      ],
    },
    working: {
      invoke: {
        src: 'step',
        input: ({ context }) => context.queue[0] ?? { n: 0 },
        onDone: {
          target: 'idle',
          actions: [
            assign(({ context }) => ({ queue: context.queue.slice(1), processed: context.processed + 1 })),
            ({ context }) => { context.onProcessed(); },
          ],
        },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ processed: context.processed }),
});

function session(verify: () => Promise<void>, run: (count: number) => Promise<void>): Session {
  return { verify, run, close: () => Promise.resolve() };
}

export const rawXstate: Contender = {
  name: 'raw XState',
  role: 'baseline',
  version: 'xstate 5 (a fromPromise actor per step)',

  async chain() {
    const machine = linearMachine('chain5', 5);
    return session(
      async () => { expect(((await runMachine(machine, { n: 0 })) as N).n === 5, 'chain result'); },
      async (count) => {
        for (let i = 0; i < count; i++) await runMachine(machine, { n: 0 });
      },
    );
  },

  async jobsize(length) {
    const machine = linearMachine(`chain${length}`, length);
    return session(
      async () => { expect(((await runMachine(machine, { n: 0 })) as N).n === length, `chain of ${length} result`); },
      async (count) => {
        for (let i = 0; i < count; i++) await runMachine(machine, { n: 0 });
      },
    );
  },

  async cycle(target) {
    const machine = cycleMachine(target, 10_000);
    return session(
      async () => { expect(((await runMachine(machine, undefined)) as N).n === target, 'cycle result'); },
      async (count) => {
        for (let i = 0; i < count; i++) await runMachine(machine, undefined);
      },
    );
  },

  async fanout({ jobs, inFlight, branchMs }) {
    const machine = fanoutMachine(branchMs);
    return session(
      async () => { expect(((await runMachine(machine, undefined)) as { sum: number }).sum === 9, 'fan-out join'); },
      async (count) => {
        for (let i = 0; i < count; i++) await runPool(jobs, inFlight, () => runMachine(machine, undefined));
      },
    );
  },

  async throughput({ inFlight }) {
    const machine = linearMachine('chain3', 3);
    return session(
      async () => { expect(((await runMachine(machine, { n: 0 })) as N).n === 3, 'chain3 result'); },
      (count) => runPool(count, inFlight, () => runMachine(machine, { n: 0 })),
    );
  },

  async scale(n): Promise<ScaleHandle> {
    let processed = 0;
    let allProcessed = deferred();
    const onProcessed = (): void => {
      if (++processed === n) allProcessed.resolve();
    };
    const actors: ActorRefFrom<typeof keepAliveMachine>[] = [];
    for (let i = 0; i < n; i++) actors.push(createActor(keepAliveMachine, { input: { onProcessed } }).start());
    return {
      async postAll() {
        processed = 0;
        allProcessed = deferred();
        for (const actor of actors) actor.send({ type: 'POST', payload: { n: 1 } });
        await allProcessed.promise;
      },
      async completeAll() {
        const outputs = actors.map((actor) => toPromise(actor));
        for (const actor of actors) actor.send({ type: 'COMPLETE' });
        const results = await Promise.all(outputs);
        expect(
          results.every((r) => r.processed === 1),
          'every xstate job processed one post',
        );
      },
      async close() {
        for (const actor of actors) actor.stop();
        actors.length = 0;
      },
    };
  },
};
