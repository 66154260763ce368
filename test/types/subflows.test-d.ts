import { describe, expectTypeOf, it } from 'vitest';
import { asRoutine, createFlow, createRuntime, defineRoutine, event, slot, type Payload } from 'slotflow';

const parse = defineRoutine({
  name: 'parse',
  slots: { raw: slot<{ text: string }>() },
  events: { row: event<{ id: number; name: string }>() },
  run() {},
});
const store = defineRoutine({
  name: 'store',
  slots: { row: slot<{ id: number; name: string }>() },
  events: { stored: event<{ id: number }>(), skipped: ['why'] },
  run() {},
});
const etl = createFlow('etl').add('parse', parse).add('store', store).connect('parse.row', 'store.row');

const consumer = defineRoutine({ name: 'consumer', slots: { ids: slot<{ id: number }>() }, run() {} });
const words = defineRoutine({ name: 'words', slots: { go: slot<{ text: string }>() }, events: { text: event<{ text: string }>() }, run() {} });

describe('asRoutine carries the child flow’s payload types', () => {
  it('types its slots and events from the mapped child slots and events', () => {
    const step = asRoutine(etl, { name: 'etl', slots: { input: 'parse.raw' }, events: { done: 'store.stored', skipped: 'store.skipped' } });
    type Types = NonNullable<(typeof step)['~types']>;
    expectTypeOf(step.slotNames).toEqualTypeOf<readonly string[]>();
    expectTypeOf<Types['slots']['input']>().toEqualTypeOf<{ text: string }>();
    expectTypeOf<Types['events']['done']>().toEqualTypeOf<{ id: number }>();
    expectTypeOf<Types['events']['skipped']>().toEqualTypeOf<Readonly<Record<'why', unknown>>>();
  });

  it('checks the parent flow’s connections and exec params against them', () => {
    const step = asRoutine(etl, { name: 'etl', slots: { input: 'parse.raw' }, events: { done: 'store.stored' } });
    const flow = createFlow('outer').add('etl', step).add('consumer', consumer).connect('etl.done', 'consumer.ids');
    createRuntime().exec(flow, { params: { text: 'a,b' } });
    // @ts-expect-error -- the entry slot takes { text: string }
    createRuntime().exec(flow, { params: { text: 1 } });
    // @ts-expect-error -- etl.done carries { id: number }, words.go wants { text: string }
    createFlow('bad').add('etl', step).add('words', words).connect('etl.done', 'words.go');
    const fed = createFlow('fed').add('words', words).add('etl', step).connect('words.text', 'etl.input');
    expectTypeOf(fed.id).toBeString();
  });

  it('rejects references the child flow does not have', () => {
    // @ts-expect-error -- no slot parse.text
    asRoutine(etl, { name: 'x', slots: { input: 'parse.text' } });
    // @ts-expect-error -- no event store.done
    asRoutine(etl, { name: 'x', slots: { input: 'parse.raw' }, events: { done: 'store.done' } });
    // @ts-expect-error -- a slot is not an event
    asRoutine(etl, { name: 'x', slots: { input: 'parse.raw' }, events: { done: 'store.row' } });
    // @ts-expect-error -- name is required
    asRoutine(etl, { slots: { input: 'parse.raw' } });
  });

  it('stays loose for a compiled flow', () => {
    const step = asRoutine(etl.compile(), { name: 'etl', slots: { input: 'parse.raw' }, events: { done: 'store.stored' } });
    type Types = NonNullable<(typeof step)['~types']>;
    expectTypeOf(step.kind).toEqualTypeOf<'slotflow.routine'>();
    expectTypeOf<Types['slots']['input']>().toEqualTypeOf<Payload>();
  });
});
