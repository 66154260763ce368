/**
 * Inspection (SPEC 7): `createRuntime({ inspect })` hands the observer to every XState actor the runtime creates,
 * with readable actor ids (`job:<jobId>`, `routine:<jobId>:<routineId>`).
 */
import { describe, expect, it, vi } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import * as xstate from 'xstate';
import { createFlow, defineRoutine } from 'slotflow';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

// A pass-through spy on createActor: it records the options the runtime gives each actor.
vi.mock('xstate', async (importOriginal) => {
  const actual = await importOriginal<typeof import('xstate')>();
  return { ...actual, createActor: vi.fn(actual.createActor) };
});

const runtime = useRuntimes();

const source = defineRoutine({
  name: 'source',
  slots: ['trigger'],
  events: { item: ['n'] },
  run({ slots, emit }) {
    for (const { n } of slots.trigger) emit('item', { n });
  },
});

const sink = defineRoutine({
  name: 'sink',
  slots: ['input'],
  events: { done: ['n'] },
  run({ slots, emit }) {
    for (const { n } of slots.input) emit('done', { n });
  },
});

const pipeline = () => createFlow('pipeline').add('source', source).add('sink', sink).connect('source.item', 'sink.input').entry('source', 'trigger');

/** The readable id of the actor an inspection event is about (XState types `actorRef` as `ActorRefLike`). */
const idOf = (event: InspectionEvent): string => (event.actorRef as AnyActorRef).id;

/** Collects inspection events and reads them by readable actor id. */
class Collector {
  readonly events: InspectionEvent[] = [];
  readonly observer = (event: InspectionEvent): void => {
    this.events.push(event);
  };

  /** The ids of the actors announced by `@xstate.actor`, in creation order. */
  get actorIds(): string[] {
    return this.events.filter((e) => e.type === '@xstate.actor').map((e) => idOf(e));
  }

  /** The types of the events an actor received, in order. */
  eventTypes(actorId: string): string[] {
    return this.events.flatMap((e) => (e.type === '@xstate.event' && idOf(e) === actorId ? [e.event.type] : []));
  }

  /** The payloads an actor received for one event type. */
  payloads(actorId: string, type: string): unknown[] {
    return this.events.flatMap((e) => (e.type === '@xstate.event' && idOf(e) === actorId && e.event.type === type ? [(e.event as { payload?: unknown }).payload] : []));
  }

  /** An actor's state values, consecutive repeats folded (`queued`, `running`, `completed`). */
  states(actorId: string): string[] {
    const values: string[] = [];
    for (const e of this.events) {
      if (e.type !== '@xstate.snapshot' || idOf(e) !== actorId) continue;
      const value = JSON.stringify((e.snapshot as { value?: unknown }).value);
      if (values.at(-1) !== value) values.push(value);
    }
    return values.map((value) => JSON.parse(value) as string);
  }

  /** sessionId (what the Stately inspector keys actors by) -> readable id. */
  get sessions(): Map<string, string> {
    const map = new Map<string, string>();
    for (const e of this.events) if (e.type === '@xstate.actor') map.set(e.actorRef.sessionId, idOf(e));
    return map;
  }
}

describe('createRuntime({ inspect })', () => {
  it('announces the supervisor and every routine actor under readable ids', async () => {
    const seen = new Collector();
    const rt = runtime({ inspect: seen.observer });

    const state = await rt.exec(pipeline(), { params: { n: 1 }, jobId: 'job-1' }).wait();

    expect(state.status).toBe('completed');
    expect(seen.actorIds.sort()).toEqual(['job:job-1', 'routine:job-1:sink', 'routine:job-1:source']);
  });

  it('maps every session id to one actor, and every inspected event to an announced session', async () => {
    const seen = new Collector();
    const rt = runtime({ inspect: seen.observer });

    const flow = pipeline();
    await Promise.all([rt.exec(flow, { params: { n: 1 }, jobId: 'a' }).wait(), rt.exec(flow, { params: { n: 2 }, jobId: 'b' }).wait()]);

    const sessions = seen.sessions;
    // Session ids are unique across jobs (the inspector keys actors by them), and ids name their job.
    expect([...sessions.values()].sort()).toEqual(['job:a', 'job:b', 'routine:a:sink', 'routine:a:source', 'routine:b:sink', 'routine:b:source']);
    for (const e of seen.events) {
      expect(sessions.get(e.actorRef.sessionId)).toBe(idOf(e));
      // Each actor is a root actor of its own (README: how it maps to XState).
      expect(e.rootId).toBe(e.actorRef.sessionId);
      expect((e.actorRef as AnyActorRef)._parent).toBeUndefined();
    }
  });

  it('shows the slot events a routine receives, with their payloads', async () => {
    const seen = new Collector();
    const rt = runtime({ inspect: seen.observer });

    await rt.exec(pipeline(), { params: { n: 7 }, jobId: 'job-1' }).wait();

    expect(seen.eventTypes('routine:job-1:source')).toEqual(['xstate.init', 'slot.trigger', 'activation.done']);
    expect(seen.payloads('routine:job-1:source', 'slot.trigger')).toEqual([{ n: 7 }]);
    expect(seen.eventTypes('routine:job-1:sink')).toEqual(['xstate.init', 'slot.input', 'activation.done']);
    expect(seen.payloads('routine:job-1:sink', 'slot.input')).toEqual([{ n: 7 }]);
    expect(seen.states('routine:job-1:sink')).toEqual(['idle', 'running', 'idle']);
  });

  it("shows the supervisor's states and the events it routes", async () => {
    const seen = new Collector();
    const rt = runtime({ inspect: seen.observer });

    await rt.exec(pipeline(), { params: { n: 1 }, jobId: 'job-1' }).wait();

    expect(seen.states('job:job-1')).toEqual(['queued', 'running', 'completed']);
    const types = seen.eventTypes('job:job-1');
    expect(types.slice(0, 2)).toEqual(['xstate.init', 'start']);
    // One routing step per emitted payload: source.item, then sink.done (an output).
    expect(types.filter((t) => t === 'routine.emitted')).toHaveLength(2);
    const emitted = seen.events.flatMap((e) => (e.type === '@xstate.event' && e.event.type === 'routine.emitted' ? [e.event] : []));
    expect(emitted).toEqual([
      { type: 'routine.emitted', routineId: 'source', event: 'item', payload: { n: 1 } },
      { type: 'routine.emitted', routineId: 'sink', event: 'done', payload: { n: 1 } },
    ]);
  });

  it('shows a paused, then cancelled job, and its routines leaving with the supervisor', async () => {
    const gate = new Gate();
    const held = defineRoutine({
      name: 'held',
      slots: ['in'],
      events: { out: ['n'] },
      async run({ signal }) {
        await gate.enter('held', signal);
      },
    });
    const seen = new Collector();
    const rt = runtime({ inspect: seen.observer });
    const job = rt.exec(createFlow('held').add('held', held), { params: { n: 1 }, jobId: 'job-1' });
    await flush();

    job.pause();
    job.resume();
    job.cancel('enough');
    const state = await job.wait();

    expect(state.status).toBe('cancelled');
    expect(seen.states('job:job-1')).toEqual(['queued', 'running', 'paused', 'running', 'cancelled']);
    expect(seen.eventTypes('routine:job-1:held')).toEqual(['xstate.init', 'slot.in', 'pause', 'resume']);
    const last = seen.events.filter((e) => e.type === '@xstate.snapshot' && idOf(e) === 'routine:job-1:held').at(-1);
    expect(last?.type === '@xstate.snapshot' && last.snapshot.status).toBe('stopped');
  });

  it('shows a failed activation the job survives, and the supervisor of a job that fails', async () => {
    const broken = defineRoutine({
      name: 'broken',
      slots: ['in'],
      events: {},
      run() {
        throw new Error('boom');
      },
    });
    const seen = new Collector();
    const rt = runtime({ inspect: seen.observer });

    const survived = await rt.exec(createFlow('survives').add('broken', broken, { onError: 'continue' }), { params: {}, jobId: 'job-1' }).wait();
    const failed = await rt.exec(createFlow('fails').add('broken', broken), { params: {}, jobId: 'job-2' }).wait();

    expect(survived.status).toBe('completed');
    expect(seen.eventTypes('routine:job-1:broken')).toEqual(['xstate.init', 'slot.in', 'activation.failed']);
    const failure = seen.events.find((e) => e.type === '@xstate.event' && e.event.type === 'activation.failed');
    expect(failure?.type === '@xstate.event' && failure.event).toMatchObject({ decision: 'continue', error: expect.objectContaining({ message: 'boom' }) });
    expect(seen.states('routine:job-1:broken')).toEqual(['idle', 'running', 'idle']);

    expect(failed.status).toBe('failed');
    expect(seen.eventTypes('job:job-2')).toEqual(['xstate.init', 'start', 'fail']);
    expect(seen.states('job:job-2')).toEqual(['queued', 'running', 'failed']);
    const last = seen.events.filter((e) => e.type === '@xstate.snapshot' && idOf(e) === 'routine:job-2:broken').at(-1);
    expect(last?.type === '@xstate.snapshot' && last.snapshot.status).toBe('stopped');
  });

  it('accepts an Observer object as well as a function', async () => {
    const next = vi.fn<(event: InspectionEvent) => void>();
    const rt = runtime({ inspect: { next } });

    await rt.exec(pipeline(), { params: { n: 1 }, jobId: 'job-1' }).wait();

    const ids = new Set(next.mock.calls.map(([e]) => idOf(e)));
    expect([...ids].sort()).toEqual(['job:job-1', 'routine:job-1:sink', 'routine:job-1:source']);
  });

  it('gives no inspection observer to any actor when `inspect` is not set', async () => {
    const createActor = vi.mocked(xstate.createActor);
    createActor.mockClear();
    const rt = runtime();

    await rt.exec(pipeline(), { params: { n: 1 }, jobId: 'job-1' }).wait();

    const ids = createActor.mock.calls.map(([, options]) => options?.id);
    expect(ids.sort()).toEqual(['job:job-1', 'routine:job-1:sink', 'routine:job-1:source']);
    for (const [, options] of createActor.mock.calls) expect(options && 'inspect' in options).toBe(false);
  });

  it("does not call another runtime's observer: inspection is per runtime, not global", async () => {
    const inspect = vi.fn<(event: InspectionEvent) => void>();
    const inspected = runtime({ inspect });
    const plain = runtime();

    await plain.exec(pipeline(), { params: { n: 1 } }).wait();
    expect(inspect).not.toHaveBeenCalled();

    await inspected.exec(pipeline(), { params: { n: 1 } }).wait();
    expect(inspect).toHaveBeenCalled();
  });

  it('hands the same observer to every actor of every job', async () => {
    const createActor = vi.mocked(xstate.createActor);
    createActor.mockClear();
    const inspect = vi.fn<(event: InspectionEvent) => void>();
    const rt = runtime({ inspect });

    const flow = pipeline();
    await Promise.all([1, 2, 3].map((n) => rt.exec(flow, { params: { n } }).wait()));

    expect(createActor).toHaveBeenCalledTimes(9);
    for (const [, options] of createActor.mock.calls) expect(options?.inspect).toBe(inspect);
  });
});
