/* eslint-disable @typescript-eslint/require-await -- every contender's step is a trivial async function on purpose (the shape being measured), and sessions open asynchronously */
/**
 * The XState floor: the XState events of slotflow's design and nothing else. Per routine one real XState v5 machine
 * actor (lib/floorMachines.ts: flat, context `{ host }`, the policy as a guard reading the host, the cycle as a
 * self-transition), per job one supervisor actor; per hop the same two events slotflow sends (the arrival
 * `slot.in`, then `activation.done`), per job the supervisor's `reset`, `start` and `settle`. The hosts are
 * trivial: one queue, a busy count, routing by index; the activation is the same trivial async step as every
 * other contender's, started from a microtask (never inside a transition). Actors are reused across jobs, as
 * slotflow reuses them: a chain job needs no actor reset, the supervisor gets `reset`.
 *
 * What slotflow costs above this row is slotflow's own code (validation, routing, metrics, the job state, the
 * scheduler, events) and its machines' extra shape; what this row costs is XState itself.
 */
import { createActor, type Actor } from 'xstate';
import { floorRoutineMachine, floorSupervisorMachine, type FloorRoutineHost, type FloorSupervisorHost } from '../lib/floorMachines.js';
import type { Contender, Session } from '../lib/types.js';
import { expect, runPool } from '../lib/util.js';

interface N {
  n: number;
}

const step = async (input: N): Promise<N> => ({ n: input.n + 1 });

const DONE = { type: 'activation.done' } as const;
const RESET = { type: 'reset' } as const;
const START = { type: 'start' } as const;
const SETTLE = { type: 'settle' } as const;

/** One routine of a job: its actor and its host (one slot, `in`; policy: any data in `in`). */
class Cell implements FloorRoutineHost {
  paused = false;
  retryDue = false;
  readonly queue: N[] = [];
  inflight: N[] = [];
  activations = 0;
  readonly actor: Actor<typeof floorRoutineMachine>;

  constructor(
    readonly job: Job,
    readonly index: number,
  ) {
    this.actor = createActor(floorRoutineMachine, { input: { host: this } });
    this.actor.start();
  }

  readyOnArrival(slot: string): boolean {
    return slot === 'in';
  }
  ready(): boolean {
    return this.queue.length > 0;
  }
  enqueue(slot: string, payload: unknown): void {
    if (slot === 'in') this.queue.push(payload as N);
  }
  activate(): void {
    this.job.busy++;
    this.consume();
  }
  consume(): void {
    this.inflight = this.queue.splice(0);
  }
  startActivation(): void {
    this.job.schedule(this);
  }
  finish(): void {
    this.job.busy--;
    this.inflight = [];
  }
  nextAttempt(): void {
    // never fails: the step is trivial
  }
}

/** Where an activation's output goes: the next routine (chain) or back into the same one (cycle). */
type Route = (job: Job, from: Cell, output: N) => void;

/** One job's actors (a supervisor, a routine actor per routine), reused job after job. */
class Job implements FloorSupervisorHost {
  busy = 0;
  outputs: N[] = [];
  iterations = 0;
  converged = false;
  readonly cells: Cell[] = [];
  readonly supervisor: Actor<typeof floorSupervisorMachine>;
  private used = false;
  private resolve: (() => void) | undefined;
  private readonly runNext = (): void => {
    const cell = this.pending.shift();
    if (cell !== undefined) void this.activation(cell);
  };
  private readonly pending: Cell[] = [];

  constructor(
    routines: number,
    readonly route: Route,
  ) {
    for (let i = 0; i < routines; i++) this.cells.push(new Cell(this, i));
    this.supervisor = createActor(floorSupervisorMachine, { input: { host: this } });
    this.supervisor.start();
  }

  /** Run one job: params into the first routine's `in`; resolves when the supervisor completes. */
  run(params: N): Promise<void> {
    if (this.used) this.supervisor.send(RESET);
    this.used = true;
    this.outputs = [];
    this.iterations = 0;
    this.converged = false;
    const done = new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
    this.supervisor.send(START);
    this.cells[0]?.actor.send({ type: 'slot.in', payload: params });
    return done;
  }

  schedule(cell: Cell): void {
    this.pending.push(cell);
    queueMicrotask(this.runNext);
  }

  private async activation(cell: Cell): Promise<void> {
    cell.activations++;
    for (const payload of cell.inflight) this.route(this, cell, await step(payload));
    cell.actor.send(DONE);
    if (this.busy === 0) this.supervisor.send(SETTLE);
  }

  quiescent(): boolean {
    return this.busy === 0;
  }
  mayEnd(): boolean {
    return true;
  }
  finished(): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }
}

const chainRoute: Route = (job, from, output) => {
  const next = job.cells[from.index + 1];
  if (next === undefined) job.outputs.push(output);
  else next.actor.send({ type: 'slot.in', payload: output });
};

function cycleRoute(target: number, maxIterations: number): Route {
  return (job, from, output) => {
    // the edge's guard: deliver back while not converged and within the bound
    if (output.n >= target) {
      job.converged = true;
      job.outputs.push(output);
    } else if (job.iterations < maxIterations) {
      job.iterations++;
      from.actor.send({ type: 'slot.in', payload: output });
    }
  };
}

function session(verify: () => Promise<void>, run: (count: number) => Promise<void>): Session {
  return { verify, run, close: () => Promise.resolve() };
}

/** A chain of `length` routines, one job at a time; the result is checked. */
function chainSession(length: number): Session {
  const job = new Job(length, chainRoute);
  return session(
    async () => {
      await job.run({ n: 0 });
      expect(job.outputs.length === 1 && job.outputs[0]?.n === length, `XState floor chain of ${length}: outputs ${JSON.stringify(job.outputs)}, expected [{ n: ${length} }]`);
      expect(job.cells.every((c) => c.activations === 1), 'XState floor chain: every routine ran once');
      await job.run({ n: 0 });
      expect(job.outputs.at(0)?.n === length && job.supervisor.getSnapshot().value === 'completed', 'XState floor chain: a reused job runs again');
    },
    async (count) => {
      for (let i = 0; i < count; i++) await job.run({ n: 0 });
    },
  );
}

export const xstateFloor: Contender = {
  name: 'XState floor',
  role: 'baseline',
  version: 'xstate 5, lean flat machines, trivial hosts (its events alone)',
  skip: { fanout: 'not a floor workload (it measures waiting, not per-event cost)', scale: 'not a floor workload' },

  async chain() {
    return chainSession(5);
  },

  async jobsize(length) {
    return chainSession(length);
  },

  async cycle(target) {
    const job = new Job(1, cycleRoute(target, 10_000));
    const loop = job.cells[0] as Cell;
    return session(
      async () => {
        const before = loop.activations;
        await job.run({ n: 0 });
        expect(job.outputs.length === 1 && job.outputs[0]?.n === target, `XState floor cycle: outputs ${JSON.stringify(job.outputs)}, expected [{ n: ${target} }]`);
        expect(loop.activations - before === target, `XState floor cycle: ${loop.activations - before} activations, expected ${target}`);
        expect(job.converged && job.iterations === target - 1, `XState floor cycle: converged ${job.converged}, ${job.iterations} deliveries over the edge, expected ${target - 1}`);
      },
      async (count) => {
        for (let i = 0; i < count; i++) await job.run({ n: 0 });
      },
    );
  },

  async throughput({ inFlight }) {
    // a job's actors are taken from a free list and given back when it completes, as slotflow pools them
    const free: Job[] = [];
    const once = async (): Promise<N | undefined> => {
      const job = free.pop() ?? new Job(3, chainRoute);
      await job.run({ n: 0 });
      const out = job.outputs[0];
      free.push(job);
      return out;
    };
    return session(
      async () => { expect((await once())?.n === 3, 'XState floor chain3 result'); },
      (count) => runPool(count, inFlight, once),
    );
  },
};
