import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { routineMachine } from 'slotflow/machines';
import { fakeRoutineHost, type FakeRoutineHost } from '../helpers/machine-fakeHosts.js';

function start(host: FakeRoutineHost) {
  const actor = createActor(routineMachine, { input: { host } });
  actor.start();
  return actor;
}

type RoutineActor = ReturnType<typeof start>;

/** Data arrives in `slot`: the host queues it, then the actor gets `slot.<name>` (as the runtime delivers). */
function arrive(actor: RoutineActor, slot: string, payload: unknown): void {
  (actor.getSnapshot().context.host as FakeRoutineHost).enqueue(slot, payload);
  actor.send({ type: `slot.${slot}`, payload });
}

/** A started actor with one slot `a`, and the event type of every microstep it takes. */
function startCountingMicrosteps(host: FakeRoutineHost) {
  const microsteps: string[] = [];
  const actor = createActor(routineMachine, {
    input: { host },
    inspect: (event) => {
      if (event.type === '@xstate.microstep') microsteps.push(event.event.type);
    },
  });
  actor.start();
  return { actor, microsteps };
}

const hostOf = (actor: RoutineActor): FakeRoutineHost => actor.getSnapshot().context.host as FakeRoutineHost;
const queuesOf = (actor: RoutineActor) => hostOf(actor).queues;
const valueOf = (actor: RoutineActor) => actor.getSnapshot().value;

describe('routineMachine: slot queues and the ready guard', () => {
  it('an arrival that fires the routine takes one microstep: queued, consumed and started in one transition', () => {
    const host = fakeRoutineHost(['a']);
    host.setReady((ctx) => ctx.queues.a!.length >= 1);
    const { actor, microsteps } = startCountingMicrosteps(host);
    microsteps.length = 0;
    arrive(actor, 'a', 'x');
    expect(microsteps).toEqual(['slot.a']);
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation')[0]!.inflight?.consumed).toEqual({ a: ['x'] });
  });

  it('the guard sees the arrival queued (once), and a declined arrival stays queued exactly once', () => {
    const host = fakeRoutineHost();
    const seen: unknown[][] = [];
    host.setReady((ctx) => {
      seen.push([...ctx.queues.a!]);
      return false;
    });
    const actor = start(host);
    seen.length = 0;
    arrive(actor, 'a', 'x');
    arrive(actor, 'a', 'y');
    expect(seen[0]).toEqual(['x']);
    expect(seen.at(-1)).toEqual(['x', 'y']);
    expect(queuesOf(actor)).toEqual({ a: ['x', 'y'], b: [] });
  });

  it('starts idle with one empty FIFO queue per slot', () => {
    const actor = start(fakeRoutineHost());
    expect(valueOf(actor)).toBe('idle');
    expect(queuesOf(actor)).toEqual({ a: [], b: [] });
  });

  it('queues slot events FIFO per slot while the guard is false, evaluating it on every arrival', () => {
    const host = fakeRoutineHost();
    host.setReady(() => false);
    const actor = start(host);
    arrive(actor, 'a', { n: 1 });
    arrive(actor, 'b', { n: 2 });
    arrive(actor, 'a', { n: 3 });
    expect(valueOf(actor)).toBe('idle');
    expect(queuesOf(actor)).toEqual({ a: [{ n: 1 }, { n: 3 }], b: [{ n: 2 }] });
    // evaluated at start and after each of the three arrivals
    expect(host.callsOf('ready').length).toBeGreaterThanOrEqual(3);
    expect(host.callsOf('consume')).toHaveLength(0);
    expect(host.callsOf('startActivation')).toHaveLength(0);
    expect(host.busyCount).toBe(0);
  });

  it('ignores a slot event for a slot it does not have', () => {
    const host = fakeRoutineHost();
    host.setReady(() => false);
    const actor = start(host);
    arrive(actor, 'zzz', 1);
    expect(queuesOf(actor)).toEqual({ a: [], b: [] });
  });

  it('enters running when the guard holds: consume runs, startActivation once, busy(+1)', () => {
    const host = fakeRoutineHost();
    host.setReady((ctx) => ctx.queues.a!.length >= 2);
    const actor = start(host);
    arrive(actor, 'a', 'x');
    expect(valueOf(actor)).toBe('idle');
    arrive(actor, 'a', 'y');
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('consume')).toHaveLength(1);
    const starts = host.callsOf('startActivation');
    expect(starts).toHaveLength(1);
    expect(starts[0]!.inflight?.consumed).toEqual({ a: ['x', 'y'], b: [] });
    expect(starts[0]!.attempt).toBe(0);
    expect(host.callsOf('busy')).toEqual([{ type: 'busy', delta: 1 }]);
    expect(queuesOf(actor)).toEqual({ a: [], b: [] });
    // consume happened before the activation was asked for
    const order = host.calls.filter((c) => c.type !== 'ready').map((c) => c.type);
    expect(order).toEqual(['consume', 'busy', 'startActivation']);
  });

  it('keeps the consumed data as the inflight activation and records when it started', () => {
    const host = fakeRoutineHost();
    host.setNow(42);
    const actor = start(host);
    arrive(actor, 'b', 'p');
    const ctx = hostOf(actor);
    expect(ctx.inflight?.consumed).toEqual({ a: [], b: ['p'] });
    expect(ctx.attempt).toBe(0);
    expect(ctx.lastActivationAt).toBe(42);
  });

  it('only queues arrivals while running: no second consume or startActivation', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 1);
    const readyCalls = host.callsOf('ready').length;
    arrive(actor, 'a', 2);
    arrive(actor, 'b', 3);
    expect(valueOf(actor)).toEqual('running');
    expect(queuesOf(actor)).toEqual({ a: [2], b: [3] });
    expect(host.callsOf('consume')).toHaveLength(1);
    expect(host.callsOf('startActivation')).toHaveLength(1);
    expect(host.callsOf('ready')).toHaveLength(readyCalls); // the guard is not consulted while active
  });

  it('activation.done returns to idle and busy(-1) when nothing else is queued', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 1);
    actor.send({ type: 'activation.done' });
    expect(valueOf(actor)).toBe('idle');
    expect(hostOf(actor).inflight).toBeUndefined();
    expect(host.callsOf('busy').map((c) => c.delta)).toEqual([1, -1]);
    expect(host.busyCount).toBe(0);
  });

  it('activation.done re-evaluates the guard: data queued meanwhile goes straight back to running', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 1);
    arrive(actor, 'a', 2);
    arrive(actor, 'b', 3);
    actor.send({ type: 'activation.done' });
    expect(valueOf(actor)).toEqual('running');
    const starts = host.callsOf('startActivation');
    expect(starts).toHaveLength(2);
    expect(starts[1]!.inflight?.consumed).toEqual({ a: [2], b: [3] });
    expect(starts[1]!.attempt).toBe(0);
    // a self-transition of running: the routine never left active, so the job never looked idle
    expect(host.callsOf('busy').map((c) => c.delta)).toEqual([1]);
    expect(host.busyCount).toBe(1);
  });

  it('activation.done with data waiting is one microstep (the cycle self-transition)', () => {
    const host = fakeRoutineHost(['a']);
    const { actor, microsteps } = startCountingMicrosteps(host);
    arrive(actor, 'a', 1);
    arrive(actor, 'a', 2);
    microsteps.length = 0;
    actor.send({ type: 'activation.done' });
    expect(microsteps).toEqual(['activation.done']);
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation').at(-1)!.inflight?.consumed).toEqual({ a: [2] });
    // without data waiting, done goes back to idle
    actor.send({ type: 'activation.done' });
    expect(valueOf(actor)).toBe('idle');
    expect(host.busyCount).toBe(0);
  });

  it('a tick event re-evaluates the guard in idle (timed policies)', () => {
    const host = fakeRoutineHost();
    let open = false;
    host.setReady((ctx) => open && ctx.queues.a!.length > 0);
    const actor = start(host);
    arrive(actor, 'a', 1);
    expect(valueOf(actor)).toBe('idle');
    open = true;
    actor.send({ type: 'tick' });
    expect(valueOf(actor)).toEqual('running');
  });

  it('records firstArrivalAt when data enters empty queues and resets it when everything is consumed', () => {
    const host = fakeRoutineHost();
    host.setReady(() => false);
    const actor = start(host);
    host.setNow(10);
    arrive(actor, 'a', 1);
    host.setNow(20);
    arrive(actor, 'a', 2);
    expect(hostOf(actor).firstArrivalAt).toBe(10);
    host.setReady((ctx) => ctx.queues.a!.length > 0);
    host.setNow(30);
    actor.send({ type: 'tick' });
    expect(hostOf(actor).firstArrivalAt).toBeUndefined();
  });
});

describe('routineMachine: failures', () => {
  function running() {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 'data');
    expect(valueOf(actor)).toEqual('running');
    return { host, actor };
  }

  it('retry -> backoff with attempt+1 and armRetry called, staying busy', () => {
    const { host, actor } = running();
    actor.send({ type: 'activation.failed', decision: 'retry', error: new Error('x') });
    expect(valueOf(actor)).toEqual('backoff');
    expect(hostOf(actor).attempt).toBe(1);
    expect(host.callsOf('armRetry')).toEqual([{ type: 'armRetry', attempt: 1 }]);
    expect(host.busyCount).toBe(1);
    expect(host.callsOf('busy')).toHaveLength(1);
  });

  it('the retry event re-enters running with the SAME inflight and the next attempt number', () => {
    const { host, actor } = running();
    const inflight = hostOf(actor).inflight;
    actor.send({ type: 'activation.failed', decision: 'retry', error: new Error('x') });
    actor.send({ type: 'retry' });
    expect(valueOf(actor)).toEqual('running');
    const starts = host.callsOf('startActivation');
    expect(starts).toHaveLength(2);
    expect(starts[1]!.inflight).toBe(inflight);
    expect(starts[1]!.attempt).toBe(1);
    expect(host.callsOf('consume')).toHaveLength(1); // nothing consumed again
    expect(host.callsOf('busy')).toHaveLength(1); // never left active

    actor.send({ type: 'activation.failed', decision: 'retry', error: new Error('y') });
    actor.send({ type: 'retry' });
    expect(host.callsOf('startActivation')[2]!.attempt).toBe(2);
    expect(host.callsOf('startActivation')[2]!.inflight).toBe(inflight);
  });

  it('arrivals during backoff only queue; after the retry succeeds they are taken', () => {
    const { host, actor } = running();
    actor.send({ type: 'activation.failed', decision: 'retry', error: new Error('x') });
    arrive(actor, 'b', 'late');
    expect(queuesOf(actor)).toEqual({ a: [], b: ['late'] });
    actor.send({ type: 'retry' });
    actor.send({ type: 'activation.done' });
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation')[2]!.inflight?.consumed).toEqual({ a: [], b: ['late'] });
    expect(host.callsOf('startActivation')[2]!.attempt).toBe(0);
  });

  it('skip -> skipped: busy(-1), further slots queue and it never runs again', () => {
    const { host, actor } = running();
    actor.send({ type: 'activation.failed', decision: 'skip', error: new Error('x') });
    expect(valueOf(actor)).toBe('skipped');
    expect(host.busyCount).toBe(0);
    arrive(actor, 'a', 1);
    arrive(actor, 'b', 2);
    actor.send({ type: 'tick' });
    actor.send({ type: 'resume' });
    expect(valueOf(actor)).toBe('skipped');
    expect(queuesOf(actor)).toEqual({ a: [1], b: [2] });
    expect(host.callsOf('startActivation')).toHaveLength(1);
  });

  it('stop -> stopped: busy(-1), later slots queue and it never runs again', () => {
    const { host, actor } = running();
    actor.send({ type: 'activation.failed', decision: 'stop', error: new Error('x') });
    expect(valueOf(actor)).toBe('stopped');
    expect(host.busyCount).toBe(0);
    arrive(actor, 'a', 1);
    expect(valueOf(actor)).toBe('stopped');
    expect(queuesOf(actor).a).toEqual([1]);
    expect(host.callsOf('startActivation')).toHaveLength(1);
  });

  it('continue -> idle, clearing the inflight, and the guard runs again for queued data', () => {
    const { host, actor } = running();
    actor.send({ type: 'activation.failed', decision: 'continue', error: new Error('x') });
    expect(valueOf(actor)).toBe('idle');
    expect(hostOf(actor).inflight).toBeUndefined();
    expect(host.busyCount).toBe(0);

    arrive(actor, 'a', 'again');
    arrive(actor, 'a', 'queued');
    actor.send({ type: 'activation.failed', decision: 'continue', error: new Error('y') });
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation')[2]!.inflight?.consumed).toEqual({ a: ['queued'], b: [] });
  });
});

describe('routineMachine: pause and resume', () => {
  it('pause blocks the guard (the host is not even asked); resume re-evaluates it', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    actor.send({ type: 'pause' });
    const before = host.callsOf('ready').length;
    arrive(actor, 'a', 1);
    arrive(actor, 'a', 2);
    expect(valueOf(actor)).toBe('idle');
    expect(host.callsOf('ready')).toHaveLength(before);
    expect(host.callsOf('startActivation')).toHaveLength(0);
    actor.send({ type: 'resume' });
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation')[0]!.inflight?.consumed).toEqual({ a: [1, 2], b: [] });
  });

  it('a running activation finishes while paused, and the next one waits for resume', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 1);
    actor.send({ type: 'pause' });
    arrive(actor, 'a', 2);
    actor.send({ type: 'activation.done' });
    expect(valueOf(actor)).toBe('idle');
    expect(host.busyCount).toBe(0);
    actor.send({ type: 'resume' });
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation')).toHaveLength(2);
  });

  it('a retry due while paused waits for resume', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 1);
    actor.send({ type: 'activation.failed', decision: 'retry', error: new Error('x') });
    actor.send({ type: 'pause' });
    actor.send({ type: 'retry' });
    expect(valueOf(actor)).toEqual('backoff');
    expect(host.callsOf('startActivation')).toHaveLength(1);
    actor.send({ type: 'resume' });
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation')).toHaveLength(2);
    expect(host.callsOf('startActivation')[1]!.attempt).toBe(1);
  });
});

describe('routineMachine: pure transitions', () => {
  it('initialTransition and transition compute the next snapshot without running an action, and never assign the context', () => {
    const host = fakeRoutineHost(['in']);
    const [s0] = initialTransition(routineMachine, { host });
    expect(s0.value).toBe('idle');
    host.enqueue('in', 'x');
    const [s1, actions] = transition(routineMachine, s0, { type: 'slot.in', payload: 'x' });
    expect(s1.value).toEqual('running');
    // the guard asked the policy; the side-effecting actions are returned to execute, not executed
    expect(host.callsOf('ready')).toEqual([{ type: 'ready', result: true }]);
    expect(host.callsOf('consume')).toHaveLength(0);
    expect(host.callsOf('startActivation')).toHaveLength(0);
    expect(host.callsOf('busy')).toHaveLength(0);
    expect(actions.map((a) => a.type)).toEqual(['activate', 'startActivation']);
    // the data lives in the host: the context is the same `{ host }` object in every snapshot
    expect(s1.context).toBe(s0.context);

    host.activate(); // what executing `activate` does: the queue is taken
    const [s2, actions2] = transition(routineMachine, s1, { type: 'activation.done' });
    expect(s2.value).toBe('idle');
    expect(actions2.map((a) => a.type)).toEqual(['finish']);
    expect(s2.context).toBe(s0.context);
  });
});

describe('routineMachine: restore', () => {
  const restore = (target: 'idle' | 'running' | 'backoff' | 'skipped' | 'stopped', extra: Partial<{ paused: boolean; queues: Record<string, unknown[]> }> = {}) =>
    ({
      type: 'restore',
      target,
      queues: extra.queues ?? { a: ['q'] },
      inflight: target === 'running' || target === 'backoff' ? { consumed: { a: ['x'], b: [] }, counts: { a: 1 }, message: { reason: 'immediate' } } : undefined,
      attempt: target === 'backoff' ? 2 : 0,
      paused: extra.paused ?? false,
      lastActivationAt: 5,
      firstArrivalAt: undefined,
    }) as const;

  it('restored running: the in-flight activation is scheduled again with its consumed data, and the routine is busy', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    actor.send(restore('running'));
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('startActivation')).toEqual([{ type: 'startActivation', inflight: expect.objectContaining({ consumed: { a: ['x'], b: [] } }), attempt: 0 }]);
    expect(host.busyCount).toBe(1);
    expect(queuesOf(actor)).toEqual({ a: ['q'], b: [] });
    expect(hostOf(actor).lastActivationAt).toBe(5);
  });

  it('restored backoff: the retry timer is armed again for the saved attempt', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    actor.send(restore('backoff'));
    expect(valueOf(actor)).toEqual('backoff');
    expect(host.callsOf('armRetry')).toEqual([{ type: 'armRetry', attempt: 2 }]);
    expect(host.callsOf('startActivation')).toHaveLength(0);
    actor.send({ type: 'retry' });
    expect(host.callsOf('startActivation')[0]?.attempt).toBe(2);
  });

  it('restored idle: the policy guard decides at the next event (the runtime sends a tick), and waits for resume if the job was paused', () => {
    const paused = fakeRoutineHost();
    const held = start(paused);
    held.send(restore('idle', { paused: true }));
    expect(valueOf(held)).toBe('idle');
    held.send({ type: 'resume' });
    expect(valueOf(held)).toEqual('running');

    const host = fakeRoutineHost();
    const actor = start(host);
    actor.send(restore('idle'));
    expect(valueOf(actor)).toEqual('idle');
    actor.send({ type: 'tick' });
    expect(valueOf(actor)).toEqual('running');
    expect(host.callsOf('consume')).toHaveLength(1);
  });

  it('restored skipped and stopped keep their data and never activate', () => {
    for (const target of ['skipped', 'stopped'] as const) {
      const host = fakeRoutineHost();
      const actor = start(host);
      actor.send(restore(target));
      arrive(actor, 'a', 'more');
      expect(valueOf(actor)).toBe(target);
      expect(queuesOf(actor)).toEqual({ a: ['q', 'more'], b: [] });
      expect(host.callsOf('startActivation')).toHaveLength(0);
    }
  });

  it('is ignored once the routine has left idle', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 1);
    actor.send(restore('skipped'));
    expect(valueOf(actor)).toEqual('running');
  });
});

describe('routineMachine: reset (actor reuse across jobs)', () => {
  it('returns an idle routine to a fresh state: empty queues, no window or interval times, not paused', () => {
    const host = fakeRoutineHost();
    host.setReady(() => false);
    const actor = start(host);
    arrive(actor, 'a', 1);
    actor.send({ type: 'pause' });
    expect(hostOf(actor).firstArrivalAt).toBeDefined();
    actor.send({ type: 'reset' });
    expect(valueOf(actor)).toBe('idle');
    expect(hostOf(actor)).toMatchObject({ queues: { a: [], b: [] }, inflight: undefined, attempt: 0, paused: false, retryDue: false, lastActivationAt: undefined, firstArrivalAt: undefined });
  });

  it('is ignored while an activation is active', () => {
    const host = fakeRoutineHost();
    const actor = start(host);
    arrive(actor, 'a', 1);
    actor.send({ type: 'reset' });
    expect(valueOf(actor)).toEqual('running');
  });
});
