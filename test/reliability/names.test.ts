/**
 * User-given names are data: '__proto__' cannot be a plain key and is refused where a name must be one; names like
 * 'constructor' or 'toString' work as any other. Cycle search is iterative.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, isFlowValidationError, isRoutineDefinitionError } from 'slotflow';

const pass = defineRoutine({
  name: 'pass',
  slots: ['in'],
  events: { out: ['n'] },
  run({ slots, emit }) {
    for (const { n } of slots.in as { n: number }[]) emit('out', { n });
  },
});

function definitionError(options: object): string {
  try {
    defineRoutine({ name: 'r', run() {}, ...options } as never);
  } catch (error) {
    expect(isRoutineDefinitionError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a RoutineDefinitionError');
}

describe("reserved name '__proto__'", () => {
  it('is refused as a slot, an event or an event field, naming it', () => {
    expect(definitionError({ slots: ['__proto__'] })).toMatch(/slot '__proto__' is a reserved name/);
    expect(definitionError({ slots: JSON.parse('{"__proto__": {"~standard": {"version": 1, "vendor": "x", "validate": null}}}') })).toMatch(/slot '__proto__' is a reserved name/);
    expect(definitionError({ slots: ['in'], events: JSON.parse('{"__proto__": ["n"]}') })).toMatch(/event '__proto__' is a reserved name/);
    expect(definitionError({ slots: ['in'], events: { out: ['__proto__'] } })).toMatch(/field of event 'out' '__proto__' is a reserved name/);
  });

  it('is refused as a routine id and a connection name', () => {
    const problems = createFlow('f')
      .add('a', pass)
      .add('__proto__', pass)
      .connect('a.out', 'a.in', { name: '__proto__', maxIterations: 2 })
      .validate();
    expect(problems.map((p) => p.message)).toEqual([
      "routine id '__proto__' is a reserved name (it cannot be a plain object key); rename it",
      "connection name '__proto__' is a reserved name (it cannot be a plain object key); rename it",
    ]);
  });

  it("'constructor' and 'toString' are ordinary names for slots, events and connections", async () => {
    const routine = defineRoutine({
      name: 'proto-names',
      slots: ['constructor'],
      events: { toString: ['valueOf'] },
      run({ slots, emit }) {
        for (const payload of slots.constructor) emit('toString', { valueOf: payload.valueOf });
      },
    });
    const flow = createFlow('names').add('constructor', routine).add('sink', pass).connect('constructor.toString', 'sink.in', { name: 'toString' });
    expect(flow.validate()).toEqual([]);
    const rt = createRuntime();
    try {
      const state = await rt.exec(flow, { params: { valueOf: 7 } }).wait();
      expect(state.status).toBe('completed');
      expect(state.outputs).toEqual({ 'sink.out': [{ n: undefined }] });
      expect(state.history.map((h) => h.routineId)).toEqual(['constructor', 'sink']);
    } finally {
      await rt.shutdown();
    }
  });
});

describe('cycle search', () => {
  it('a 5,000-routine chain closed by an unbounded edge is reported, not a stack overflow', () => {
    let flow = createFlow('long');
    const n = 5000;
    for (let i = 0; i < n; i++) flow = flow.add(`r${String(i)}`, pass);
    for (let i = 0; i < n - 1; i++) flow = flow.connect(`r${String(i)}.out` as never, `r${String(i + 1)}.in` as never);
    flow = flow.connect(`r${String(n - 1)}.out` as never, 'r0.in' as never);
    let caught: unknown;
    try {
      flow.compile();
    } catch (error) {
      caught = error;
    }
    expect(isFlowValidationError(caught)).toBe(true);
    const problems = (caught as { problems: { path: string; message: string }[] }).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(`connections[${String(n - 1)}]`);
    expect(problems[0]?.message).toMatch(/closes an unbounded cycle \(r0 -> r1 -> .* -> r4999 -> r0\)/);
  });
});
