import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { edgeOutcome, supervisorMachine, type SupervisorEvent } from 'slotflow/machines';
import { fakeSupervisorHost, type FakeSupervisorHost } from '../helpers/machine-fakeHosts.js';

/** Sends `event`, then `settle` if the job is quiescent: what the runtime does after start, resume, complete and post. */
function send(actor: ReturnType<typeof start>, event: SupervisorEvent): void {
  actor.send(event);
  if ((actor.getSnapshot().context.host as FakeSupervisorHost).idle) actor.send({ type: 'settle' });
}

function start(host: FakeSupervisorHost, keepAlive = false) {
  host.keepAlive = keepAlive;
  const actor = createActor(supervisorMachine, { input: { host } });
  actor.start();
  return actor;
}

describe('supervisorMachine: lifecycle', () => {
  it('starts queued and reports the status', () => {
    const host = fakeSupervisorHost();
    const actor = start(host);
    expect(actor.getSnapshot().value).toBe('queued');
    expect(host.callsOf('status')).toEqual([{ type: 'status', status: 'queued' }]);
  });

  it('queued -> start -> running while the job is busy', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    expect(actor.getSnapshot().value).toBe('running');
    expect(host.callsOf('status').map((c) => c.status)).toEqual(['queued', 'running']);
    expect(host.callsOf('finished')).toHaveLength(0);
  });

  it('completes on settle as soon as it is quiescent (keepAlive false)', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    host.idle = true;
    actor.send({ type: 'settle' });
    expect(actor.getSnapshot().value).toBe('completed');
    expect(host.callsOf('finished')).toEqual([{ type: 'finished', status: 'completed', error: undefined }]);
  });

  it('settle on a quiescent job completes it in one microstep (keepAlive: goes idle)', () => {
    for (const keepAlive of [false, true]) {
      const host = fakeSupervisorHost(false);
      host.keepAlive = keepAlive;
      const microsteps: string[] = [];
      const actor = createActor(supervisorMachine, {
        input: { host },
        inspect: (event) => {
          if (event.type === '@xstate.microstep') microsteps.push(event.event.type);
        },
      });
      actor.start();
      send(actor, { type: 'start' });
      host.idle = true;
      microsteps.length = 0;
      actor.send({ type: 'settle' });
      expect(actor.getSnapshot().value).toBe(keepAlive ? 'idle' : 'completed');
      expect(microsteps).toEqual(['settle']);
    }
  });

  it('a job started while already quiescent completes at the settle that follows start', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host);
    expect(actor.getSnapshot().value).toBe('queued'); // the guard is not checked before start
    send(actor, { type: 'start' });
    expect(actor.getSnapshot().value).toBe('completed');
  });

  it('settle while still busy keeps it running', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    actor.send({ type: 'settle' });
    expect(actor.getSnapshot().value).toBe('running');
  });

  it('keepAlive: quiescent -> idle instead of completed', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host, true);
    send(actor, { type: 'start' });
    host.idle = true;
    actor.send({ type: 'settle' });
    expect(actor.getSnapshot().value).toBe('idle');
    expect(host.callsOf('finished')).toHaveLength(0);
    expect(host.callsOf('status').map((c) => c.status)).toEqual(['queued', 'running', 'idle']);
  });

  it('idle + post -> running, delivering the payload', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host, true);
    send(actor, { type: 'start' });
    expect(actor.getSnapshot().value).toBe('idle');
    host.onDeliver = () => {
      host.idle = false; // the delivery makes a routine busy
    };
    send(actor, { type: 'post', routineId: 'r', slot: 'in', payload: { n: 1 } });
    expect(actor.getSnapshot().value).toBe('running');
    expect(host.callsOf('deliver')).toEqual([{ type: 'deliver', routineId: 'r', slot: 'in', payload: { n: 1 } }]);
    host.idle = true;
    actor.send({ type: 'settle' });
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('complete() on an idle keepAlive job completes it when quiescent', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host, true);
    send(actor, { type: 'start' });
    send(actor, { type: 'complete' });
    expect(actor.getSnapshot().value).toBe('completed');
    expect(host.callsOf('finished')).toEqual([{ type: 'finished', status: 'completed', error: undefined }]);
  });

  it('complete() on a busy keepAlive job lets the work drain, then completes (not idle)', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host, true);
    send(actor, { type: 'start' });
    send(actor, { type: 'complete' });
    expect(actor.getSnapshot().value).toBe('running');
    expect((actor.getSnapshot().context.host as FakeSupervisorHost).completing).toBe(true);
    send(actor, { type: 'post', routineId: 'r', slot: 'in', payload: {} });
    expect(host.callsOf('deliver')).toHaveLength(1);
    host.idle = true;
    actor.send({ type: 'settle' });
    expect(actor.getSnapshot().value).toBe('completed');
  });

  it('complete() while queued is remembered', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host, true);
    send(actor, { type: 'complete' });
    expect(actor.getSnapshot().value).toBe('queued');
    send(actor, { type: 'start' });
    expect(actor.getSnapshot().value).toBe('completed');
  });

  it('post while queued delivers and stays queued', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'post', routineId: 'r', slot: 's', payload: 1 });
    expect(actor.getSnapshot().value).toBe('queued');
    expect(host.callsOf('deliver')).toHaveLength(1);
  });
});

describe('supervisorMachine: pause and resume', () => {
  it('pause -> paused calls pauseRoutines(true); resume -> running calls pauseRoutines(false)', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    actor.send({ type: 'pause' });
    expect(actor.getSnapshot().value).toBe('paused');
    expect(host.callsOf('pauseRoutines')).toEqual([{ type: 'pauseRoutines', paused: true }]);
    send(actor, { type: 'resume' });
    expect(actor.getSnapshot().value).toBe('running');
    expect(host.callsOf('pauseRoutines')).toEqual([
      { type: 'pauseRoutines', paused: true },
      { type: 'pauseRoutines', paused: false },
    ]);
    expect(host.callsOf('status').map((c) => c.status)).toEqual(['queued', 'running', 'paused', 'running']);
  });

  it('does not complete while paused even when quiescent; completes on resume', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    actor.send({ type: 'pause' });
    host.idle = true;
    actor.send({ type: 'settle' });
    expect(actor.getSnapshot().value).toBe('paused');
    send(actor, { type: 'resume' });
    expect(actor.getSnapshot().value).toBe('completed');
  });

  it('an idle keepAlive job can be paused, and routes and posts are still handled while paused', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host, true);
    send(actor, { type: 'start' });
    actor.send({ type: 'pause' });
    expect(actor.getSnapshot().value).toBe('paused');
    send(actor, { type: 'post', routineId: 'r', slot: 's', payload: 1 });
    actor.send({ type: 'routine.emitted', routineId: 'r', event: 'e', payload: 2 });
    expect(actor.getSnapshot().value).toBe('paused');
    expect(host.callsOf('deliver')).toHaveLength(1);
    expect(host.callsOf('route')).toHaveLength(1);
  });
});

describe('supervisorMachine: fail and cancel', () => {
  const cases = [
    { name: 'queued', setup: (_a: ReturnType<typeof start>) => undefined, keepAlive: false },
    {
      name: 'running',
      setup: (a: ReturnType<typeof start>) => {
        send(a, { type: 'start' });
      },
      keepAlive: false,
    },
    {
      name: 'paused',
      setup: (a: ReturnType<typeof start>) => {
        send(a, { type: 'start' });
        a.send({ type: 'pause' });
      },
      keepAlive: false,
    },
    {
      name: 'idle',
      setup: (a: ReturnType<typeof start>) => {
        send(a, { type: 'start' });
      },
      keepAlive: true,
    },
  ] as const;

  for (const c of cases) {
    for (const kind of ['fail', 'cancel'] as const) {
      it(`${kind} from ${c.name} -> ${kind === 'fail' ? 'failed' : 'cancelled'}, host.finished called exactly once with the error`, () => {
        const host = fakeSupervisorHost(c.name === 'idle');
        const actor = start(host, c.keepAlive);
        c.setup(actor);
        expect(actor.getSnapshot().value).toBe(c.name);
        const error = new Error(`${kind} from ${c.name}`);
        actor.send({ type: kind, error });
        const status = kind === 'fail' ? 'failed' : 'cancelled';
        expect(actor.getSnapshot().value).toBe(status);
        expect(host.callsOf('finished')).toEqual([{ type: 'finished', status, error }]);
        expect(host.callsOf('status').at(-1)).toEqual({ type: 'status', status });
      });
    }
  }

  it('a finished job takes no further events: a later fail or cancel does not call finished again', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    const first = new Error('first');
    actor.send({ type: 'fail', error: first });
    actor.send({ type: 'cancel', error: new Error('second') });
    actor.send({ type: 'fail', error: new Error('third') });
    expect(actor.getSnapshot().value).toBe('failed');
    expect(host.callsOf('finished')).toEqual([{ type: 'finished', status: 'failed', error: first }]);
  });

  it('reset takes a finished supervisor back to queued for another job; its context holds only the host, never the job\'s data', () => {
    for (const [end, final] of [['complete', 'completed'], ['fail', 'failed'], ['cancel', 'cancelled']] as const) {
      const host = fakeSupervisorHost(true);
      const actor = start(host, true);
      send(actor, { type: 'start' });
      expect(actor.getSnapshot().value).toBe('idle');
      send(actor, end === 'complete' ? { type: end } : { type: end, error: new Error(end) });
      expect(actor.getSnapshot().value).toBe(final);
      // the next job's data: a real runtime binds a new host; the fake one is reset in place
      Object.assign(host, { keepAlive: false, completing: false, error: undefined });
      actor.send({ type: 'reset' });
      expect(actor.getSnapshot().value).toBe('queued');
      expect(Object.keys(actor.getSnapshot().context)).toEqual(['host']);
      expect(host.callsOf('status').at(-1)).toEqual({ type: 'status', status: 'queued' });
      send(actor, { type: 'start' });
      expect(actor.getSnapshot().value).toBe('completed');
    }
  });

  it('start in a final status is reset and start in one step: queued is reported, then running (or paused)', () => {
    for (const paused of [false, true]) {
      const host = fakeSupervisorHost(true);
      const actor = start(host);
      send(actor, { type: 'start' });
      expect(actor.getSnapshot().value).toBe('completed');
      // the next job's data: busy at once, so it does not complete on its start
      Object.assign(host, { idle: false, completing: false });
      actor.send({ type: 'start', paused, completing: true });
      expect(actor.getSnapshot().value).toBe(paused ? 'paused' : 'running');
      expect(host.callsOf('status').map((c) => c.status)).toEqual(['queued', 'running', 'completed', 'queued', paused ? 'paused' : 'running']);
      expect(host.completing).toBe(true);
      expect(host.callsOf('pauseRoutines')).toEqual(paused ? [{ type: 'pauseRoutines', paused: true }] : []);
      expect(Object.keys(actor.getSnapshot().context)).toEqual(['host']);
    }
  });

  it('reset is ignored by a live job', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    actor.send({ type: 'reset' });
    expect(actor.getSnapshot().value).toBe('running');
    expect(host.callsOf('status').map((c) => c.status)).toEqual(['queued', 'running']);
  });

  it('a completed job cannot be failed or cancelled afterwards', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host);
    send(actor, { type: 'start' });
    expect(actor.getSnapshot().value).toBe('completed');
    actor.send({ type: 'fail', error: new Error('late') });
    actor.send({ type: 'cancel', error: new Error('late') });
    expect(actor.getSnapshot().value).toBe('completed');
    expect(host.callsOf('finished')).toEqual([{ type: 'finished', status: 'completed', error: undefined }]);
  });

  it('pure transitions: start then settle on a quiescent job yields completed and one finished action', () => {
    const host = fakeSupervisorHost(true);
    const [s0, a0] = initialTransition(supervisorMachine, { host });
    expect(s0.value).toBe('queued');
    expect(a0.map((a) => a.type)).toContain('status');
    const [s1, a1] = transition(supervisorMachine, s0, { type: 'start' });
    expect(s1.value).toBe('running');
    expect(a1.filter((a) => a.type === 'finished')).toHaveLength(0);
    const [s2, a2] = transition(supervisorMachine, s1, { type: 'settle' });
    expect(s2.value).toBe('completed');
    expect(a2.filter((a) => a.type === 'finished')).toHaveLength(1);
    expect(host.callsOf('finished')).toHaveLength(0); // pure: nothing executed
    expect(s2.context).toBe(s0.context); // never assigned
  });
});

describe('supervisorMachine: routing', () => {
  it('routine.emitted calls host.route with the routine, event and payload', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    actor.send({ type: 'routine.emitted', routineId: 'a', event: 'out', payload: { x: 1 } });
    expect(host.callsOf('route')).toEqual([{ type: 'route', routineId: 'a', event: 'out', payload: { x: 1 } }]);
  });

  it('routine.emitted on an idle keepAlive job routes and goes back to running', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host, true);
    send(actor, { type: 'start' });
    host.onDeliver = () => {
      host.idle = false;
    };
    actor.send({ type: 'routine.emitted', routineId: 'a', event: 'out', payload: 1 });
    expect(host.callsOf('route')).toHaveLength(1);
    expect(actor.getSnapshot().value).toBe('running');
  });

  it('post while running delivers', () => {
    const host = fakeSupervisorHost(false);
    const actor = start(host);
    send(actor, { type: 'start' });
    send(actor, { type: 'post', routineId: 'b', slot: 'in', payload: 'p' });
    expect(host.callsOf('deliver')).toEqual([{ type: 'deliver', routineId: 'b', slot: 'in', payload: 'p' }]);
    expect(actor.getSnapshot().value).toBe('running');
  });
});

describe('edgeOutcome (the cycle guard)', () => {
  it.each([
    // converged, iterations, maxIterations, outcome
    [false, 0, 1, 'deliver'],
    [false, 0, 3, 'deliver'],
    [false, 2, 3, 'deliver'],
    [false, 3, 3, 'exhausted'],
    [false, 4, 3, 'exhausted'],
    [false, 1, 1, 'exhausted'],
    [true, 0, 3, 'converged'],
    [true, 2, 3, 'converged'],
    [true, 3, 3, 'converged'],
    [true, 5, 3, 'converged'],
  ] as const)('converged=%s iterations=%i max=%i -> %s', (converged, iterations, max, outcome) => {
    expect(edgeOutcome(converged, iterations, max)).toBe(outcome);
  });
});

describe('supervisorMachine: restored jobs', () => {
  it('start { paused: true } goes straight to paused and pauses the routines, even when quiescent', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host);
    send(actor, { type: 'start', paused: true });
    expect(actor.getSnapshot().value).toBe('paused');
    expect(host.callsOf('pauseRoutines')).toEqual([{ type: 'pauseRoutines', paused: true }]);
    send(actor, { type: 'resume' });
    expect(actor.getSnapshot().value).toBe('completed');
  });

  it('start { completing: true } keeps a keepAlive job\'s complete(): it completes when quiescent', () => {
    const host = fakeSupervisorHost(true);
    const actor = start(host, true);
    send(actor, { type: 'start', completing: true });
    expect(actor.getSnapshot().value).toBe('completed');
    const other = fakeSupervisorHost(true);
    const alive = start(other, true);
    send(alive, { type: 'start' });
    expect(alive.getSnapshot().value).toBe('idle');
  });
});
