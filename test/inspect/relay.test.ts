/**
 * The Stately inspector over its loopback WebSocket relay (SPEC 7), offline: a runtime whose `inspect` is
 * `createWebSocketInspector(...).inspect` sends its actors to `createInspectorServer`, and a
 * `createWebSocketReceiver` (what the browser page does) gets them with their readable ids.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createWebSocketInspector, createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createFlow, defineRoutine } from 'slotflow';
import { deferred } from '../helpers/deferred.js';
import { useRuntimes } from '../helpers/runtimes.js';
import { startRelay, type Relay } from './relay.js';

const runtime = useRuntimes();
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const source = defineRoutine({
  name: 'source',
  slots: ['trigger'],
  events: { item: ['n'] },
  async run({ slots, emit }) {
    await Promise.resolve();
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

async function relay(): Promise<Relay> {
  const started = await startRelay();
  cleanup.push(() => started.close());
  return started;
}

describe('createRuntime({ inspect: createWebSocketInspector(...).inspect })', () => {
  it('relays every actor, event and snapshot of a job to a receiver, under readable ids', async () => {
    const { url } = await relay();
    const received: StatelyInspectionEvent[] = [];
    const names = new Map<string, string>();
    const jobDone = deferred();
    createWebSocketReceiver({ server: url }).subscribe((event) => {
      received.push(event);
      if (event.type === '@xstate.actor') names.set(event.sessionId, event.name);
      // The supervisor's final snapshot is the job's last inspection event (events arrive in order).
      if (event.type === '@xstate.snapshot' && names.get(event.sessionId) === 'job:relay-1' && event.snapshot.status === 'stopped') jobDone.resolve();
    });
    const inspector = createWebSocketInspector({ url });
    // Stop the client before the relay goes: once its socket errors, it reconnects every 5 s, for ever.
    cleanup.push(() => {
      inspector.stop();
    });
    const rt = runtime({ inspect: inspector.inspect });

    const state = await rt.exec(createFlow('relayed').add('source', source).add('sink', sink).connect('source.item', 'sink.input'), { params: { n: 5 }, jobId: 'relay-1' }).wait();
    await jobDone.promise;

    expect(state.status).toBe('completed');
    expect([...names.values()].sort()).toEqual(['job:relay-1', 'routine:relay-1:sink', 'routine:relay-1:source']);
    const sessionOf = (name: string) => [...names].find(([, n]) => n === name)?.[0];
    const eventsTo = (name: string) => received.flatMap((e) => (e.type === '@xstate.event' && e.sessionId === sessionOf(name) ? [e.event] : []));
    expect(eventsTo('routine:relay-1:sink')).toContainEqual({ type: 'slot.input', payload: { n: 5 } });
    expect(eventsTo('job:relay-1').map((e) => e.type)).toEqual(['xstate.init', 'start', 'routine.emitted', 'routine.emitted', 'settle']);
    const supervisorStates = received.flatMap((e) => (e.type === '@xstate.snapshot' && e.sessionId === sessionOf('job:relay-1') ? [(e.snapshot as { value?: unknown }).value] : []));
    expect([...new Set(supervisorStates)]).toEqual(['queued', 'running', 'completed']);
  });

  it('sends each machine definition, so the inspector can draw the routine and supervisor machines', async () => {
    const { url } = await relay();
    const definitions = new Map<string, { id: string; states: Record<string, unknown> }>();
    const both = deferred();
    createWebSocketReceiver({ server: url }).subscribe((event) => {
      if (event.type !== '@xstate.actor' || event.definition === undefined) return;
      definitions.set(event.name, JSON.parse(event.definition) as { id: string; states: Record<string, unknown> });
      if (definitions.size === 2) both.resolve();
    });
    const inspector = createWebSocketInspector({ url });
    cleanup.push(() => {
      inspector.stop();
    });
    const rt = runtime({ inspect: inspector.inspect });

    await rt.exec(createFlow('one').add('source', source), { params: { n: 1 }, jobId: 'def-1' }).wait();
    await both.promise;

    const routine = definitions.get('routine:def-1:source');
    expect(routine?.id).toBe('routine');
    // The inspector serialises definitions with sorted keys.
    expect(Object.keys(routine?.states ?? {}).sort()).toEqual(['backoff', 'idle', 'running', 'skipped', 'stopped']);
    const supervisor = definitions.get('job:def-1');
    expect(supervisor?.id).toBe('supervisor');
    expect(Object.keys(supervisor?.states ?? {}).sort()).toEqual(['cancelled', 'completed', 'failed', 'idle', 'paused', 'queued', 'running']);
  });
});
