import { describe, expectTypeOf, it } from 'vitest';
import { createFlow, defineRoutine, event, slot, type FlowBuilder, type Payload } from 'slotflow';

const fetcher = defineRoutine({
  name: 'fetcher',
  slots: ['trigger'],
  events: { output: ['data', 'source'] },
  config: { sourceName: 'Source', delayMs: 100 },
  run({ emit, config }) {
    emit('output', { data: `from ${config.sourceName}`, source: config.sourceName });
  },
});

const collector = defineRoutine({
  name: 'collector',
  slots: ['input', 'other'],
  events: { done: ['count'] },
  run({ slots, emit }) {
    emit('done', { count: slots.input.length + slots.other.length });
  },
});

const numbers = defineRoutine({
  name: 'numbers',
  slots: { go: slot<{ start: number }>() },
  events: { value: event<{ n: number }>(['n']), label: event<{ text: string }>() },
  run({ slots, emit }) {
    for (const p of slots.go) emit('value', { n: p.start });
  },
});

const numberSink = defineRoutine({
  name: 'numberSink',
  slots: { input: slot<{ n: number }>() },
  run() {},
});

const stringSink = defineRoutine({
  name: 'stringSink',
  slots: { input: slot<{ text: string }>() },
  run() {},
});

describe('FlowBuilder#connect types', () => {
  it('accepts a valid connection and returns the builder', () => {
    const flow = createFlow('f').add('fetcher', fetcher).add('collector', collector).connect('fetcher.output', 'collector.input');
    expectTypeOf(flow).toExtend<FlowBuilder<{ fetcher: typeof fetcher; collector: typeof collector }>>();
    // the event references the compiler offers are exactly the declared ones
    expectTypeOf<Parameters<typeof flow.connect>[0]>().toEqualTypeOf<'fetcher.output' | 'collector.done'>();
    expectTypeOf<Parameters<typeof flow.entry>[0]>().toEqualTypeOf<'fetcher' | 'collector'>();
  });

  it('rejects an unknown routine id', () => {
    const flow = createFlow('f').add('fetcher', fetcher).add('collector', collector);
    // @ts-expect-error 'fetchr' is not a routine of the flow
    flow.connect('fetchr.output', 'collector.input');
    // @ts-expect-error 'collectr' is not a routine of the flow
    flow.connect('fetcher.output', 'collectr.input');
  });

  it('rejects an unknown event', () => {
    const flow = createFlow('f').add('fetcher', fetcher).add('collector', collector);
    // @ts-expect-error fetcher has no event 'result'
    flow.connect('fetcher.result', 'collector.input');
    // @ts-expect-error a slot is not an event
    flow.connect('collector.input', 'collector.other');
  });

  it('rejects an unknown slot', () => {
    const flow = createFlow('f').add('fetcher', fetcher).add('collector', collector);
    // @ts-expect-error collector has no slot 'inputs'
    flow.connect('fetcher.output', 'collector.inputs');
    // @ts-expect-error an event is not a slot
    flow.connect('fetcher.output', 'collector.done');
  });

  it('only knows the routines added so far', () => {
    const flow = createFlow('f').add('fetcher', fetcher);
    // @ts-expect-error collector is added later
    flow.connect('fetcher.output', 'collector.input');
  });

  it('types the cycle options with the event payload', () => {
    createFlow('f')
      .add('n', numbers)
      .add('sink', numberSink)
      .connect('n.value', 'sink.input', {
        maxIterations: 3,
        until: (payload, ctx) => {
          expectTypeOf(payload).toEqualTypeOf<{ n: number }>();
          expectTypeOf(ctx.iterations).toEqualTypeOf<number>();
          return payload.n > 2;
        },
      });
  });
});

describe('FlowBuilder#add types', () => {
  it('rejects a duplicate id', () => {
    const flow = createFlow('f').add('a', fetcher);
    // @ts-expect-error 'a' is already used
    flow.add('a', collector);
    flow.add('b', collector);
  });

  it('takes a config override that is a Partial of the routine config', () => {
    createFlow('f').add('a', fetcher, { config: { sourceName: 'S0' } });
    createFlow('f').add('a', fetcher, { config: {} });
    // @ts-expect-error delayMs is a number
    createFlow('f').add('a', fetcher, { config: { delayMs: 'slow' } });
    // @ts-expect-error no such config key
    createFlow('f').add('a', fetcher, { config: { sourceNam: 'typo' } });
  });
});

describe('FlowBuilder#entry types', () => {
  it('checks the routine id and slot name', () => {
    const flow = createFlow('f').add('fetcher', fetcher).add('collector', collector);
    flow.entry('fetcher', 'trigger');
    flow.entry('collector', 'other');
    flow.entry('collector');
    // @ts-expect-error fetcher has no slot 'input'
    flow.entry('fetcher', 'input');
    // @ts-expect-error no routine 'nobody'
    flow.entry('nobody');
  });
});

describe('typed slots and events', () => {
  it('accepts a connection whose event payload fits the slot type', () => {
    createFlow('f').add('n', numbers).add('sink', numberSink).connect('n.value', 'sink.input');
  });

  it('rejects a connection whose event payload does not fit the slot type', () => {
    const flow = createFlow('f').add('n', numbers).add('num', numberSink).add('str', stringSink);
    // @ts-expect-error { n: number } is not { text: string }
    flow.connect('n.value', 'str.input');
    // @ts-expect-error { text: string } is not { n: number }
    flow.connect('n.label', 'num.input');
    flow.connect('n.label', 'str.input');
  });

  it('an untyped slot accepts any event', () => {
    createFlow('f').add('n', numbers).add('c', collector).connect('n.value', 'c.input').connect('n.label', 'c.other');
  });

  it('types slots in run from the markers', () => {
    defineRoutine({
      name: 'typed',
      slots: { go: slot<{ start: number }>(), other: slot<{ s: string }>() },
      run({ slots }) {
        expectTypeOf(slots.go).toEqualTypeOf<readonly { start: number }[]>();
        expectTypeOf(slots.other).toEqualTypeOf<readonly { s: string }[]>();
      },
    });
  });
});

describe('RunContext types', () => {
  it('types slots.<name> as an array of payloads', () => {
    defineRoutine({
      name: 'arrays',
      slots: ['input', 'other'],
      run({ slots }) {
        expectTypeOf(slots.input).toEqualTypeOf<readonly Payload[]>();
        expectTypeOf(slots.other).toEqualTypeOf<readonly Payload[]>();
        // @ts-expect-error no slot 'missing'
        expectTypeOf(slots.missing).toBeArray();
      },
    });
  });

  it('types config from the definition', () => {
    defineRoutine({
      name: 'cfg',
      slots: ['in'],
      config: { retries: 3, label: 'x' },
      run({ config }) {
        expectTypeOf(config.retries).toEqualTypeOf<number>();
        expectTypeOf(config.label).toEqualTypeOf<string>();
      },
    });
  });

  it('rejects emitting an undeclared event', () => {
    defineRoutine({
      name: 'emitter',
      slots: ['in'],
      events: { out: ['v'] },
      run({ emit }) {
        emit('out', { v: 1 });
        // @ts-expect-error 'oops' is not declared
        emit('oops', { v: 1 });
      },
    });
  });

  it('rejects a payload missing declared fields', () => {
    defineRoutine({
      name: 'emitter',
      slots: ['in'],
      events: { out: ['data', 'source'] },
      run({ emit }) {
        emit('out', { data: 1, source: 'x' });
        // @ts-expect-error source is missing
        emit('out', { data: 1 });
      },
    });
  });

  it('rejects a wrong payload type for a typed event', () => {
    defineRoutine({
      name: 'typedEmitter',
      slots: ['in'],
      events: { value: event<{ n: number }>(['n']) },
      run({ emit }) {
        emit('value', { n: 1 });
        // @ts-expect-error n must be a number
        emit('value', { n: 'one' });
        // @ts-expect-error n is required
        emit('value', {});
      },
    });
  });
});
