/* eslint-disable @typescript-eslint/require-await -- every contender's step is a trivial async function on purpose (the shape being measured), and sessions open asynchronously */
/**
 * The floor: plain async functions, no runtime at all. Every step is a trivial `async` function, like every
 * other contender's step.
 */
import type { Contender, ScaleHandle, Session } from '../lib/types.js';
import { deferred, expect, runPool, sleep, type Deferred } from '../lib/util.js';

interface N {
  n: number;
}

async function step(input: N): Promise<N> {
  return { n: input.n + 1 };
}

async function chain5(input: N): Promise<N> {
  return step(await step(await step(await step(await step(input)))));
}

async function chain3(input: N): Promise<N> {
  return step(await step(await step(input)));
}

async function chainOf(length: number, input: N): Promise<N> {
  let value = input;
  for (let i = 0; i < length; i++) value = await step(value);
  return value;
}

async function cycle(target: number, maxIterations: number): Promise<{ value: N; iterations: number }> {
  let value: N = { n: 0 };
  let iterations = 0;
  for (;;) {
    value = await step(value);
    // the convergence guard, then the bound: like a cycle edge's `until` and `maxIterations`
    if (value.n >= target || iterations >= maxIterations) return { value, iterations };
    iterations++;
  }
}

function session(verify: () => Promise<void>, run: (count: number) => Promise<void>): Session {
  return { verify, run, close: () => Promise.resolve() };
}

/** A mailbox-driven async loop: the plain equivalent of a keepAlive job waiting for posts. */
const DONE = Symbol('done');
class PlainJob {
  private readonly queue: (N | typeof DONE)[] = [];
  private waiter: Deferred<N | typeof DONE> | undefined;
  readonly finished: Promise<number>;

  constructor(onProcessed: () => void) {
    this.finished = this.loop(onProcessed);
  }

  post(message: N | typeof DONE): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve(message);
    } else {
      this.queue.push(message);
    }
  }

  private next(): Promise<N | typeof DONE> {
    const head = this.queue.shift();
    if (head !== undefined) return Promise.resolve(head);
    this.waiter = deferred<N | typeof DONE>();
    return this.waiter.promise;
  }

  private async loop(onProcessed: () => void): Promise<number> {
    let processed = 0;
    for (;;) {
      const message = await this.next();
      if (message === DONE) return processed;
      await step(message);
      processed++;
      onProcessed();
    }
  }
}

export const plain: Contender = {
  name: 'plain async',
  role: 'baseline',
  version: `node ${process.version}`,

  async chain() {
    return session(
      async () => { expect((await chain5({ n: 0 })).n === 5, 'chain result'); },
      async (count) => {
        for (let i = 0; i < count; i++) await chain5({ n: 0 });
      },
    );
  },

  async jobsize(length) {
    return session(
      async () => { expect((await chainOf(length, { n: 0 })).n === length, `chain of ${length} result`); },
      async (count) => {
        for (let i = 0; i < count; i++) await chainOf(length, { n: 0 });
      },
    );
  },

  async cycle(target) {
    return session(
      async () => { expect((await cycle(target, 10_000)).value.n === target, 'cycle result'); },
      async (count) => {
        for (let i = 0; i < count; i++) await cycle(target, 10_000);
      },
    );
  },

  async fanout({ jobs, inFlight, branchMs }) {
    const job = async (): Promise<number> => {
      const forked = await step({ n: 0 });
      const branches = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          await sleep(branchMs);
          return step(forked);
        }),
      );
      return branches.reduce((sum, b) => sum + b.n, 0);
    };
    return session(
      async () => { expect((await job()) === 8, 'fan-out join'); },
      async (count) => {
        for (let i = 0; i < count; i++) await runPool(jobs, inFlight, job);
      },
    );
  },

  async throughput({ inFlight }) {
    return session(
      async () => { expect((await chain3({ n: 0 })).n === 3, 'chain3 result'); },
      (count) => runPool(count, inFlight, () => chain3({ n: 0 })),
    );
  },

  async scale(n): Promise<ScaleHandle> {
    let processed = 0;
    let allProcessed = deferred();
    const jobs: PlainJob[] = [];
    for (let i = 0; i < n; i++) {
      jobs.push(
        new PlainJob(() => {
          if (++processed === n) allProcessed.resolve();
        }),
      );
    }
    return {
      async postAll() {
        processed = 0;
        allProcessed = deferred();
        for (const job of jobs) job.post({ n: 1 });
        await allProcessed.promise;
      },
      async completeAll() {
        for (const job of jobs) job.post(DONE);
        const counts = await Promise.all(jobs.map((job) => job.finished));
        expect(
          counts.every((c) => c === 1),
          'every plain job processed one post',
        );
      },
      async close() {
        jobs.length = 0;
      },
    };
  },
};
