/**
 * What single XState events cost on this machine, against slotflow's own machines with do-nothing hosts:
 * `node --import tsx bench/xstate-costs.ts`. CPU time per operation, the median of 7 runs of 200,000 (after a
 * warm-up). The floor of a hop in slotflow is one routine arrival plus one `activation.done`; BENCHMARKS.md
 * ("Where slotflow's time goes") quotes these.
 */
import { createActor, fromTransition, setup } from 'xstate';
import { routineMachine, supervisorMachine, type Inflight, type RoutineHost, type SupervisorHost } from '../machines/index.js';

function measure(label: string, n: number, op: () => void): void {
  for (let i = 0; i < 5_000; i++) op();
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) op();
    const used = process.cpuUsage(start);
    runs.push((used.user + used.system) / n);
  }
  runs.sort((a, b) => a - b);
  console.log(`  ${(runs[3] ?? Number.NaN).toFixed(2).padStart(6)} µs  ${label}`);
}

/** A do-nothing routine host holding one slot's queue (the runtime queues an arrival before its event). */
const queue: unknown[] = [];
let inflight: Inflight | undefined;
const routineHost: RoutineHost = {
  paused: false,
  retryDue: false,
  ready: () => queue.length > 0,
  activate: () => {
    inflight = { consumed: { in: queue.splice(0) }, counts: { in: 1 }, message: { reason: 'immediate' } };
  },
  consume: () => {
    inflight = { consumed: { in: queue.splice(0) }, counts: { in: 1 }, message: { reason: 'immediate' } };
  },
  startActivation: () => {
    if (!inflight) throw new Error('started without an activation in flight');
  },
  armRetry: () => undefined,
  nextAttempt: () => undefined,
  finish: () => {
    inflight = undefined;
  },
  markRetryDue: () => undefined,
  setPaused: () => undefined,
  reset: () => {
    queue.length = 0;
  },
  restore: () => undefined,
};
const supervisorHost: SupervisorHost = {
  keepAlive: false,
  completing: false,
  quiescent: () => false,
  route: () => undefined,
  deliver: () => undefined,
  pauseRoutines: () => undefined,
  markCompleting: () => undefined,
  recordError: () => undefined,
  finished: () => undefined,
  status: () => undefined,
};

const N = 200_000;
console.log('XState 5 costs (CPU per operation):');

const toggle = createActor(setup({}).createMachine({ initial: 'a', states: { a: { on: { go: 'b' } }, b: { on: { go: 'a' } } } }));
toggle.start();
measure('one event through a trivial 2-state actor', N, () => {
  toggle.send({ type: 'go' });
});

const routine = createActor(routineMachine, { input: { host: routineHost } });
routine.start();
measure('routine machine: an arrival that fires it + activation.done (one hop)', N, () => {
  queue.push(1);
  routine.send({ type: 'slot.in', payload: 1 });
  routine.send({ type: 'activation.done' });
});
measure('routine machine: reset', N, () => {
  routine.send({ type: 'reset' });
});

const supervisor = createActor(supervisorMachine, { input: { host: supervisorHost } });
supervisor.start();
supervisor.send({ type: 'start' });
measure('supervisor machine: routine.emitted (running)', N, () => {
  supervisor.send({ type: 'routine.emitted', routineId: 'r', event: 'out', payload: 1 });
});
measure('supervisor machine: create + start + stop an actor', N / 4, () => {
  const actor = createActor(supervisorMachine, { input: { host: supervisorHost } });
  actor.start();
  actor.stop();
});

let quiescent = false;
const lifecycle = createActor(supervisorMachine, { input: { host: { ...supervisorHost, quiescent: () => quiescent } } });
lifecycle.start();
measure("supervisor machine: one job's reset + start + settle (to completed), reused", N / 4, () => {
  quiescent = false;
  lifecycle.send({ type: 'reset' });
  lifecycle.send({ type: 'start' });
  quiescent = true;
  lifecycle.send({ type: 'settle' });
});

// The same two events through an actor whose logic is a plain transition function rather than a state machine:
// what the actor itself costs, without XState's statechart interpreter (not slotflow's design: see BENCHMARKS.md).
const reducer = createActor(
  fromTransition((state: { readonly queued: number; readonly running: boolean }, event: { readonly type: string }) => {
    if (event.type === 'slot.in') return state.running ? { ...state, queued: state.queued + 1 } : { queued: 0, running: true };
    return state.queued > 0 ? { queued: 0, running: true } : { queued: 0, running: false };
  }, { queued: 0, running: false }),
);
reducer.start();
measure('a fromTransition actor (no machine): an arrival + a done', N, () => {
  reducer.send({ type: 'slot.in' });
  reducer.send({ type: 'activation.done' });
});
