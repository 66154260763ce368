import { describe, expect, it } from 'vitest';
import { CycleExhaustedError, createFlow, createRuntime, defineRoutine, FlowValidationError, type FlowBuilder, type JobEvent, type RoutineMap } from 'slotflow';
import { flush } from '../helpers/prop-clock.js';

const relay = defineRoutine({
  name: 'relay',
  slots: ['in', 'side'],
  events: { out: ['v'], extra: ['v'] },
  run({ slots, emit }) {
    for (const p of slots.in) emit('out', { v: p.v });
  },
});

/** An untyped view of a builder, to build flows the compiler would reject. */
interface Loose {
  add(id: string, routine: unknown, options?: object): Loose;
  connect(from: string, to: string, options?: object): Loose;
  entry(routine: string, slot?: string): Loose;
  onError(strategy: unknown): Loose;
  validate(): { path: string; message: string }[];
  compile(): unknown;
}

/** The problem at `path`, whose message mentions `text`. */
function problemAt(problems: readonly { path: string; message: string }[], path: string, text: string) {
  const found = problems.filter((p) => p.path === path);
  expect(found, `a problem at ${path}`).toHaveLength(1);
  expect(found[0]!.message).toContain(text);
}
const loose = (id: string) => createFlow(id) as unknown as Loose;

function validationError(fn: () => unknown): FlowValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FlowValidationError);
    return error as FlowValidationError;
  }
  throw new Error('expected a FlowValidationError');
}

describe('FlowBuilder#validate', () => {
  it('returns no problems for a valid flow', () => {
    const flow = createFlow('ok').add('a', relay).add('b', relay).connect('a.out', 'b.in');
    expect(flow.validate()).toEqual([]);
  });

  it('reports an unknown routine in a connection, with its path', () => {
    const problems = loose('f').add('a', relay).connect('ghost.out', 'a.in').connect('a.out', 'phantom.in').validate();
    expect(problems).toHaveLength(2);
    problemAt(problems, 'connections[0].from', "'ghost'");
    problemAt(problems, 'connections[1].to', "'phantom'");
  });

  it('reports an unknown event and an unknown slot, naming them', () => {
    const problems = loose('f').add('a', relay).add('b', relay).connect('a.nope', 'b.in').connect('a.out', 'b.nada').validate();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ path: 'connections[0].from' });
    expect(problems[0]!.message).toContain("'nope'");
    expect(problems[1]).toMatchObject({ path: 'connections[1].to' });
    expect(problems[1]!.message).toContain("'nada'");
  });

  it('reports a duplicate routine id', () => {
    const problems = loose('f').add('a', relay).add('a', relay).validate();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('routines.a');
    expect(problems[0]!.message).toMatch(/duplicate/i);
    expect(problems[0]!.message).toContain("'a'");
  });

  it('reports a flow with no routines', () => {
    const problems = createFlow('empty').validate();
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems[0]!.path).toBe('routines');
    expect(problems[0]!.message).toMatch(/no routines/);
  });

  it('reports an unbounded cycle A -> B -> A, naming the routines', () => {
    const problems = createFlow('cyc').add('A', relay).add('B', relay).connect('A.out', 'B.in').connect('B.out', 'A.in').validate();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toMatch(/^connections\[\d\]$/);
    expect(problems[0]!.message).toMatch(/cycle/);
    expect(problems[0]!.message).toMatch(/A -> B -> A|B -> A -> B/);
  });

  it('reports an unbounded self-loop', () => {
    const problems = createFlow('self').add('A', relay).connect('A.out', 'A.in').validate();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('A -> A');
  });

  it('a bound on any edge of the cycle makes it valid', () => {
    expect(createFlow('cyc2').add('A', relay).add('B', relay).connect('A.out', 'B.in').connect('B.out', 'A.in', { maxIterations: 5 }).validate()).toEqual([]);
    expect(createFlow('self2').add('A', relay).connect('A.out', 'A.in', { maxIterations: 3 }).validate()).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN])('reports a bad maxIterations (%s) with its path', (maxIterations) => {
    const problems = createFlow('badMax').add('A', relay).connect('A.out', 'A.in', { maxIterations }).validate();
    expect(problems.some((p) => p.path === 'connections[0].maxIterations')).toBe(true);
  });

  it('reports a cycle option without maxIterations, and a bad onExhausted', () => {
    const noMax = createFlow('noMax').add('A', relay).connect('A.out', 'A.in', { until: () => true }).validate();
    expect(noMax.some((p) => p.path === 'connections[0].maxIterations')).toBe(true);
    const badEx = loose('badEx').add('A', relay).connect('A.out', 'A.in', { maxIterations: 2, onExhausted: 'explode' }).validate();
    expect(badEx.some((p) => p.path === 'connections[0].onExhausted')).toBe(true);
  });

  it('reports two connections with the same name', () => {
    const problems = createFlow('dupName').add('a', relay).add('b', relay).connect('a.out', 'b.in', { name: 'e' }).connect('a.extra', 'b.side', { name: 'e' }).validate();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('connections[1].name');
    expect(problems[0]!.message).toContain("'e'");
  });

  it('reports an unknown entry routine or slot', () => {
    const unknownRoutine = loose('e1').add('a', relay).entry('zz', 'in').validate();
    expect(unknownRoutine).toHaveLength(1);
    problemAt(unknownRoutine, 'entry', "'zz'");
    const unknownSlot = loose('e2').add('a', relay).entry('a', 'nope').validate();
    expect(unknownSlot).toHaveLength(1);
    problemAt(unknownSlot, 'entry', "'nope'");
  });

  it('lists every problem at once', () => {
    const problems = loose('many')
      .add('a', relay)
      .add('a', relay)
      .add('b', relay)
      .connect('x.out', 'a.in')
      .connect('a.zzz', 'b.in')
      .connect('a.out', 'b.qqq')
      .connect('b.out', 'a.in')
      .connect('a.out', 'b.in')
      .validate();
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['routines.a', 'connections[0].from', 'connections[1].from', 'connections[2].to']));
    expect(problems.some((p) => p.message.includes('cycle'))).toBe(true);
    expect(problems.length).toBeGreaterThanOrEqual(5);
  });
});

describe('FlowValidationError', () => {
  it('register throws it with every problem in `problems` and in the message', () => {
    const flow = loose('bad').add('a', relay).add('a', relay).add('b', relay).connect('a.out', 'ghost.in').connect('a.nope', 'b.in');
    const error = validationError(() => createRuntime().register(flow as unknown as FlowBuilder<RoutineMap>));
    expect(error.name).toBe('FlowValidationError');
    expect(error.problems).toHaveLength(3);
    for (const problem of error.problems) {
      expect(error.message).toContain(problem.path);
      expect(error.message).toContain(problem.message);
    }
    expect(error.message).toContain("'ghost'");
    expect(error.message).toContain("'nope'");
  });

  it('exec of an invalid flow throws it synchronously', () => {
    const flow = createFlow('cycExec').add('A', relay).connect('A.out', 'A.in');
    const error = validationError(() => createRuntime().exec(flow, { params: { v: 1 } }));
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('A -> A');
  });
});

describe('FlowBuilder#entry', () => {
  it('defaults to the first routine added, its first slot', async () => {
    const seen: { id: string; slot: string }[] = [];
    const probe = defineRoutine({
      name: 'probe',
      slots: ['first', 'second'],
      run({ slots, routineId }) {
        for (const slot of ['first', 'second'] as const) if (slots[slot].length) seen.push({ id: routineId, slot });
      },
    });
    const state = await createRuntime().exec(createFlow('entryDefault').add('p1', probe).add('p2', probe), { params: { x: 1 } }).wait();
    expect(state.status).toBe('completed');
    expect(seen).toEqual([{ id: 'p1', slot: 'first' }]);
  });

  it('delivers params to the named entry routine and slot', async () => {
    const seen: { id: string; slot: string }[] = [];
    const probe = defineRoutine({
      name: 'probe',
      slots: ['first', 'second'],
      run({ slots, routineId }) {
        for (const slot of ['first', 'second'] as const) if (slots[slot].length) seen.push({ id: routineId, slot });
      },
    });
    await createRuntime().exec(createFlow('entryNamed').add('p1', probe).add('p2', probe).entry('p2', 'second'), { params: { x: 1 } }).wait();
    expect(seen).toEqual([{ id: 'p2', slot: 'second' }]);
  });
});

describe('FlowBuilder#onError', () => {
  const thrower = defineRoutine({
    name: 'thrower',
    slots: ['in'],
    run() {
      throw new Error('x');
    },
  });

  it("defaults to 'stop'", async () => {
    expect((await createRuntime().exec(createFlow('errDefault').add('t', thrower), { params: {} }).wait()).status).toBe('failed');
  });

  it("the flow's strategy applies to routines that do not set their own; the routine's wins over the flow's", async () => {
    expect((await createRuntime().exec(createFlow('errFlow').add('t', thrower).onError('continue'), { params: {} }).wait()).status).toBe('completed');
    const stopper = defineRoutine({
      name: 'stopper',
      slots: ['in'],
      onError: 'stop',
      run() {
        throw new Error('x');
      },
    });
    expect((await createRuntime().exec(createFlow('errRoutine').add('t', stopper).onError('continue'), { params: {} }).wait()).status).toBe('failed');
  });

  it('an invalid strategy is a validation problem', () => {
    const problems = loose('errBad').add('t', thrower).onError('explode').validate();
    expect(problems.map((p) => p.path)).toEqual(['onError']);
  });
});

describe('a registered flow is immutable', () => {
  it('builder methods throw after register', () => {
    const flow = createFlow('frozen').add('a', relay).add('b', relay);
    createRuntime().register(flow);
    expect(() => flow.add('c', relay)).toThrow();
    expect(() => flow.connect('a.out', 'b.in')).toThrow();
    expect(() => flow.entry('b', 'in')).toThrow();
    expect(() => flow.onError('continue')).toThrow();
  });

  it('builder methods throw after the flow was run by exec', async () => {
    const flow = createFlow('frozen2').add('a', relay);
    await createRuntime().exec(flow).wait();
    expect(() => flow.add('c', relay)).toThrow();
  });

  it('the compiled flow does not change', () => {
    const flow = createFlow('frozen3').add('a', relay).add('b', relay).connect('a.out', 'b.in');
    const compiled = flow.compile();
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(Object.isFrozen(compiled.connections)).toBe(true);
    try {
      flow.connect('b.out', 'a.in', { maxIterations: 2 });
    } catch {
      // expected
    }
    expect(compiled.connections).toHaveLength(1);
    expect(flow.compile()).toBe(compiled);
  });

  it('builder methods return the builder', () => {
    const flow = createFlow('chain');
    const added = flow.add('a', relay);
    expect(added).toBe(flow);
    expect(added.connect('a.out', 'a.in', { maxIterations: 1 })).toBe(flow);
    expect(added.entry('a', 'in')).toBe(flow);
    expect(added.onError('continue')).toBe(flow);
  });
});

describe('cycles', () => {
  /** An optimizer: each input x emits next { x: x + 1, converged: x + 1 >= target }. */
  function optimizer(target: number) {
    return defineRoutine({
      name: 'optimizer',
      slots: ['in'],
      events: { next: ['x', 'converged'] },
      run({ slots, emit }) {
        for (const p of slots.in) {
          const x = (p.x as number) + 1;
          emit('next', { x, converged: x >= target });
        }
      },
    });
  }

  function collect(job: { events$: { subscribe(o: (e: JobEvent) => void): unknown } }) {
    const events: JobEvent[] = [];
    job.events$.subscribe((e: JobEvent) => events.push(e));
    return events;
  }

  it('a self-loop with until converges: cycles record, cycle.converged event, the converged payload in outputs', async () => {
    const flow = createFlow('opt')
      .add('opt', optimizer(5))
      .connect('opt.next', 'opt.in', { maxIterations: 100, until: (payload) => payload.converged === true });
    const job = createRuntime().exec(flow, { params: { x: 0 } });
    const events = collect(job);
    const state = await job.wait({ timeoutMs: 10_000 });
    await flush();
    expect(state.status).toBe('completed');
    expect(state.cycles['opt.next->opt.in']).toEqual({ iterations: 4, converged: true });
    expect(state.routines.opt!.activations).toBe(5);
    expect(state.outputs['opt.next']).toEqual([{ x: 5, converged: true }]);
    const converged = events.filter((e) => e.type === 'cycle.converged');
    expect(converged).toHaveLength(1);
    expect(converged[0]).toMatchObject({ edge: 'opt.next->opt.in', iterations: 4 });
    expect(events.some((e) => e.type === 'cycle.exhausted')).toBe(false);
  });

  it('until receives the iteration count so far', async () => {
    const seen: number[] = [];
    const flow = createFlow('optCtx')
      .add('opt', optimizer(1000))
      .connect('opt.next', 'opt.in', {
        maxIterations: 100,
        until: (_payload, ctx) => {
          seen.push(ctx.iterations);
          return ctx.iterations >= 3;
        },
      });
    const state = await createRuntime().exec(flow, { params: { x: 0 } }).wait({ timeoutMs: 10_000 });
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(state.cycles['opt.next->opt.in']).toEqual({ iterations: 3, converged: true });
  });

  it('maxIterations exhausted: converged false, cycle.exhausted event, the job still completes', async () => {
    const flow = createFlow('optEx')
      .add('opt', optimizer(1000))
      .connect('opt.next', 'opt.in', { maxIterations: 3, until: (payload) => payload.converged === true });
    const job = createRuntime().exec(flow, { params: { x: 0 } });
    const events = collect(job);
    const state = await job.wait({ timeoutMs: 10_000 });
    await flush();
    expect(state.status).toBe('completed');
    expect(state.cycles['opt.next->opt.in']).toEqual({ iterations: 3, converged: false });
    expect(state.routines.opt!.activations).toBe(4);
    expect(events.filter((e) => e.type === 'cycle.exhausted')).toMatchObject([{ edge: 'opt.next->opt.in', iterations: 3 }]);
    expect(events.some((e) => e.type === 'cycle.converged')).toBe(false);
    expect(job.error).toBeUndefined();
  });

  it("onExhausted: 'fail' fails the job", async () => {
    const flow = createFlow('optFail')
      .add('opt', optimizer(1000))
      .connect('opt.next', 'opt.in', { maxIterations: 2, onExhausted: 'fail' });
    const job = createRuntime().exec(flow, { params: { x: 0 } });
    const state = await job.wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('failed');
    const error = job.error as Error & { cause?: unknown };
    const cycleError = error instanceof CycleExhaustedError ? error : error.cause;
    expect(cycleError).toBeInstanceOf(CycleExhaustedError);
    expect((cycleError as CycleExhaustedError).edge).toBe('opt.next->opt.in');
    expect(state.cycles['opt.next->opt.in']).toEqual({ iterations: 2, converged: false });
  });

  it("onExhausted: 'fail' fails the job even when the flow's strategy is 'continue'", async () => {
    const flow = createFlow('optFail2')
      .add('opt', optimizer(1000))
      .connect('opt.next', 'opt.in', { maxIterations: 2, onExhausted: 'fail' })
      .onError('continue');
    const state = await createRuntime().exec(flow, { params: { x: 0 } }).wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('failed');
  });

  it('the name option renames the edge in cycles and events', async () => {
    const flow = createFlow('optNamed')
      .add('opt', optimizer(3))
      .connect('opt.next', 'opt.in', { name: 'loop', maxIterations: 10, until: (p) => p.converged === true });
    const job = createRuntime().exec(flow, { params: { x: 0 } });
    const events = collect(job);
    const state = await job.wait({ timeoutMs: 10_000 });
    await flush();
    expect(state.cycles).toEqual({ loop: { iterations: 2, converged: true } });
    expect(events.filter((e) => e.type === 'cycle.converged')).toMatchObject([{ edge: 'loop' }]);
  });

  it('a two-routine cycle A -> B -> A is bounded by its closing edge', async () => {
    const inc = defineRoutine({
      name: 'inc',
      slots: ['in'],
      events: { out: ['x'] },
      run({ slots, emit }) {
        for (const p of slots.in) emit('out', { x: (p.x as number) + 1 });
      },
    });
    const flow = createFlow('ab')
      .add('A', inc)
      .add('B', inc)
      .connect('A.out', 'B.in')
      .connect('B.out', 'A.in', { maxIterations: 4 });
    const state = await createRuntime().exec(flow, { params: { x: 0 } }).wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(state.cycles['B.out->A.in']).toEqual({ iterations: 4, converged: false });
    expect(state.routines.A!.activations).toBe(5);
    expect(state.routines.B!.activations).toBe(5);
  });

  it('after a cycle converges, the job goes on with whatever else is runnable', async () => {
    const received: unknown[] = [];
    const sink = defineRoutine({
      name: 'sink',
      slots: ['in'],
      run({ slots }) {
        received.push(...slots.in);
      },
    });
    const flow = createFlow('optThen')
      .add('opt', optimizer(3))
      .add('sink', sink)
      .connect('opt.next', 'opt.in', { maxIterations: 10, until: (p) => p.converged === true })
      .connect('opt.next', 'sink.in');
    const state = await createRuntime().exec(flow, { params: { x: 0 } }).wait({ timeoutMs: 10_000 });
    expect(state.status).toBe('completed');
    expect(received).toHaveLength(3);
    expect(received.at(-1)).toEqual({ x: 3, converged: true });
  });
});
