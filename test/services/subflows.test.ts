import { describe, expect, it } from 'vitest';
import { asRoutine, createFlow, createMemoryStore, defineRoutine, isFlowValidationError, isInvalidOptionError, isSubflowError, policies, toMermaid, type JobSnapshot } from 'slotflow';
import { createTestRuntime } from 'slotflow/testing';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();
const viaJson = (snapshot: JobSnapshot): JobSnapshot => JSON.parse(JSON.stringify(snapshot)) as JobSnapshot;

/** The child flow: doubles each value, then reports the doubled value. */
/** Restores `snapshot` of `flow` into `rt`, gives it 100 ms of clock time and waits for its end. */
async function restoreAndRun(rt: ReturnType<typeof createTestRuntime>, flow: Parameters<ReturnType<typeof createTestRuntime>['register']>[0], snapshot: JobSnapshot) {
  rt.register(flow);
  const restored = rt.restore(snapshot);
  await rt.settle();
  await rt.clock.advance(100);
  return restored.wait();
}

const double = defineRoutine({
  name: 'double',
  slots: ['in'],
  events: { out: ['value'] },
  run({ slots, emit }) {
    for (const { value } of slots.in) emit('out', { value: Number(value) * 2 });
  },
});
const report = defineRoutine({
  name: 'report',
  slots: ['in'],
  events: { done: ['value'] },
  run({ slots, emit }) {
    for (const { value } of slots.in) emit('done', { value });
  },
});
const doubling = createFlow('doubling').add('double', double).add('report', report).connect('double.out', 'report.in');

const source = defineRoutine({
  name: 'source',
  slots: ['start'],
  events: { value: ['value'] },
  run({ slots, emit }) {
    for (const { values } of slots.start) for (const value of values as number[]) emit('value', { value });
  },
});
const sink = defineRoutine({
  name: 'sink',
  slots: ['in'],
  events: { seen: ['value'] },
  run({ slots, emit }) {
    for (const { value } of slots.in) emit('seen', { value });
  },
});

const doubler = asRoutine(doubling, { name: 'doubler', slots: { input: 'double.in' }, events: { result: 'report.done' } });
const parentFlow = createFlow('parent').add('source', source).add('sub', doubler).add('sink', sink).connect('source.value', 'sub.input').connect('sub.result', 'sink.in');

describe('asRoutine', () => {
  it('runs one child job per activation and emits the mapped child events as its own', async () => {
    const rt = runtime();
    const job = rt.exec(parentFlow, { params: { values: [1, 2, 3] } });
    const state = await job.wait();
    expect(state.status).toBe('completed');
    expect(state.outputs['sink.seen']).toEqual([{ value: 2 }, { value: 4 }, { value: 6 }]);
    const children = rt.listJobs({ parentId: job.id });
    // One child per activation of `sub`, numbered from 1.
    const activations = state.routines.sub?.activations ?? 0;
    expect(activations).toBeGreaterThan(0);
    expect(children.map((c) => c.id)).toEqual(Array.from({ length: activations }, (_, i) => `${job.id}/sub/${i + 1}`));
    expect(children.every((c) => c.status === 'completed' && c.flowId === 'doubling' && c.parentId === job.id)).toBe(true);
    expect(job.parentId).toBeUndefined();
    expect(children.flatMap((c) => c.state.outputs['report.done'])).toEqual([{ value: 2 }, { value: 4 }, { value: 6 }]);
  });

  it('delivers every payload a batched activation consumed to one child', async () => {
    const rt = runtime();
    const batched = createFlow('batched')
      .add('source', source)
      .add('sub', doubler, { policy: policies.batch(3) })
      .add('sink', sink)
      .connect('source.value', 'sub.input')
      .connect('sub.result', 'sink.in');
    const job = rt.exec(batched, { params: { values: [1, 2, 3] } });
    expect((await job.wait()).outputs['sink.seen']).toEqual([{ value: 2 }, { value: 4 }, { value: 6 }]);
    expect(rt.listJobs({ parentId: job.id }).map((c) => c.id)).toEqual([`${job.id}/sub/1`]);
  });

  it('does not deadlock under maxJobs: 1 and concurrency: 1', async () => {
    const rt = runtime({ maxJobs: 1, concurrency: 1 });
    const jobs = [rt.exec(parentFlow, { params: { values: [1, 2] } }), rt.exec(parentFlow, { params: { values: [5] } })];
    const states = await Promise.all(jobs.map((j) => j.wait({ timeoutMs: 10_000 })));
    expect(states.map((s) => s.outputs['sink.seen'])).toEqual([[{ value: 2 }, { value: 4 }], [{ value: 10 }]]);
  });

  it("fails the activation with the child's error as cause", async () => {
    const rt = runtime();
    const boom = defineRoutine({
      name: 'boom',
      slots: ['in'],
      run() {
        throw new Error('child broke');
      },
    });
    const failing = asRoutine(createFlow('failing').add('boom', boom), { name: 'failing', slots: { input: 'boom.in' } });
    const job = rt.exec(createFlow('outer').add('sub', failing), { params: {} });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    const cause = (job.error as Error).cause;
    expect(isSubflowError(cause)).toBe(true);
    expect((cause as Error).message).toContain(`child job '${job.id}/sub/1' of flow 'failing' failed`);
    expect(((cause as Error).cause as Error).name).toBe('RoutineError');
    expect(rt.getJob(`${job.id}/sub/1`)?.status).toBe('failed');
  });

  it('cancels, pauses and resumes the child with its parent', async () => {
    await using rt = createTestRuntime();
    const slow = defineRoutine({
      name: 'slow',
      slots: ['in'],
      events: { done: ['ms'] },
      async run({ signal, emit }) {
        await rt.clock.sleep(100, signal);
        emit('done', { ms: 100 });
      },
    });
    const slowFlow = createFlow('slow_flow').add('slow', slow).add('again', defineRoutine({ name: 'again', slots: ['in'], events: { done: ['ms'] }, run: async ({ signal, emit }) => { await rt.clock.sleep(100, signal); emit('done', { ms: 200 }); } })).connect('slow.done', 'again.in');
    const outer = createFlow('outer_slow').add('sub', asRoutine(slowFlow, { name: 'slowSub', slots: { go: 'slow.in' }, events: { done: 'again.done' } }));

    const paused = rt.exec(outer, { params: {} });
    await rt.settle();
    const child = rt.getJob(`${paused.id}/sub/1`);
    expect(child?.status).toBe('running');
    paused.pause();
    await rt.clock.advance(100);
    expect(paused.status).toBe('paused');
    expect(child?.status).toBe('paused');
    // The running activation finished; the next one waits for resume.
    await rt.clock.advance(500);
    expect(child?.state.routines.again?.activations).toBe(0);
    paused.resume();
    await rt.settle();
    expect(child?.status).toBe('running');
    await rt.clock.advance(100);
    const state = await paused.wait();
    expect(state.status).toBe('completed');
    expect(state.outputs['sub.done']).toEqual([{ ms: 200 }]);

    const cancelled = rt.exec(outer, { params: {} });
    await rt.settle();
    cancelled.cancel('stop');
    await cancelled.wait();
    expect(rt.getJob(`${cancelled.id}/sub/1`)?.status).toBe('cancelled');
  });

  it('carries running children in snapshots and restores them without running them again', async () => {
    await using rt = createTestRuntime();
    await using rt2 = createTestRuntime();
    // The routine sleeps on the clock of the runtime running it (the second one after the restore).
    let clock = rt.clock;
    let runs = 0;
    const step = defineRoutine({
      name: 'step',
      slots: ['in'],
      events: { out: ['n'] },
      async run({ slots, signal, emit }) {
        for (const { n } of slots.in) {
          runs++;
          await clock.sleep(100, signal);
          emit('out', { n: Number(n) + 1 });
        }
      },
    });
    const chain = createFlow('chain').add('a', step).add('b', step).connect('a.out', 'b.in');
    const outer = createFlow('outer_chain').add('sub', asRoutine(chain, { name: 'chainSub', slots: { in: 'a.in' }, events: { mid: 'a.out', out: 'b.out' } }));
    const job = rt.exec(outer, { params: { n: 0 } });
    await rt.clock.advance(150);
    // a ran and emitted (b is running): cut here.
    expect(job.state.outputs['sub.mid']).toEqual([{ n: 1 }]);
    const snapshot = viaJson(job.snapshot());
    expect(Object.keys(snapshot.children ?? {})).toEqual([`${job.id}/sub/1`]);
    job.cancel();
    await job.wait();
    expect(runs).toBe(2);

    clock = rt2.clock;
    const state = await restoreAndRun(rt2, outer, snapshot);
    expect(state.status).toBe('completed');
    // a did not run again (its emission is not repeated); b ran again from its start (it was in flight).
    expect(state.outputs['sub.mid']).toEqual([{ n: 1 }]);
    expect(state.outputs['sub.out']).toEqual([{ n: 2 }]);
    expect(runs).toBe(3);
    expect(rt2.getJob(`${job.id}/sub/1`)?.parentId).toBe(job.id);
  });

  it('checkpoints children inside their parent and recovers them', async () => {
    const store = createMemoryStore();
    await using rt = createTestRuntime({ store });
    await using rt2 = createTestRuntime({ store });
    let clock = rt.clock;
    const wait = defineRoutine({
      name: 'wait',
      slots: ['in'],
      events: { out: ['ok'] },
      async run({ signal, emit }) {
        await clock.sleep(100, signal);
        emit('out', { ok: true });
      },
    });
    const outer = createFlow('outer_wait').add('sub', asRoutine(createFlow('waiting').add('wait', wait), { name: 'waitSub', slots: { in: 'wait.in' }, events: { out: 'wait.out' } }));
    const job = rt.exec(outer, { params: {} });
    await rt.settle();
    await job.checkpoint();
    expect(await store.listUnfinished()).toEqual([job.id]);
    await rt.shutdown({ suspend: true });

    clock = rt2.clock;
    rt2.register(outer);
    const [recovered] = await rt2.recover();
    expect(recovered?.id).toBe(job.id);
    await rt2.settle();
    expect(rt2.listJobs({ parentId: job.id }).map((c) => c.status)).toEqual(['running']);
    await rt2.clock.advance(100);
    expect((await (recovered as NonNullable<typeof recovered>).wait()).outputs['sub.out']).toEqual([{ ok: true }]);
  });

  it('rejects bad options with InvalidOptionError naming the closest slot or key', () => {
    const bad = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(isInvalidOptionError(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('did not throw');
    };
    // @ts-expect-error -- not a slot of the child flow
    expect(bad(() => asRoutine(doubling, { name: 'x', slots: { input: 'double.inn' } }))).toContain("did you mean 'double.in'?");
    // @ts-expect-error -- not an event of the child flow
    expect(bad(() => asRoutine(doubling, { name: 'x', slots: { input: 'double.in' }, events: { r: 'report.don' } }))).toContain("did you mean 'report.done'?");
    // @ts-expect-error -- unknown option
    expect(bad(() => asRoutine(doubling, { name: 'x', slots: { input: 'double.in' }, evnts: {} }))).toContain("did you mean 'events'?");
    expect(bad(() => asRoutine({} as never, { name: 'x', slots: {} }))).toContain('asRoutine(flow)');
    expect(bad(() => runtime({ maxSubflowDepth: 0 }))).toContain('maxSubflowDepth');
  });

  it('refuses a flow nesting subflows deeper than maxSubflowDepth', () => {
    const rt = runtime({ maxSubflowDepth: 1 });
    const inner = createFlow('level1').add('sub', doubler);
    expect(() => rt.exec(createFlow('level2').add('sub', asRoutine(inner, { name: 'l1', slots: { input: 'sub.input' } })), { params: {} })).toThrow(/nest 2 deep/);
    expect(rt.exec(inner, { params: {} }).id).toBeTypeOf('string');
  });

  it('reports a flow that contains itself, directly or through another subflow', () => {
    const v1 = createFlow('loop').add('sink', sink);
    const direct = createFlow('loop').add('again', asRoutine(v1, { name: 'again', slots: { in: 'sink.in' } }));
    expect(direct.validate()).toEqual([{ path: 'routines.again', message: "subflow 'again' contains flow 'loop' itself (loop -> loop); a flow cannot run inside its own jobs" }]);
    const middle = createFlow('middle').add('inner', asRoutine(v1, { name: 'inner', slots: { in: 'sink.in' } }));
    const through = createFlow('loop').add('mid', asRoutine(middle, { name: 'mid', slots: { in: 'inner.in' } }));
    let thrown: unknown;
    try {
      through.compile();
    } catch (error) {
      thrown = error;
    }
    expect(isFlowValidationError(thrown)).toBe(true);
    expect((thrown as Error).message).toContain("subflow 'mid' contains flow 'loop' itself (loop -> middle -> loop)");
  });

  it('draws the subflow as a nested Mermaid subgraph', () => {
    const text = toMermaid(parentFlow);
    expect(text.split('\n')).toEqual(
      expect.arrayContaining([
        '  subgraph sub__flow["doubling (subflow of sub)"]',
        '    direction LR',
        '    sub__double -->|"out -> in"| sub__report',
        '  end',
        '  sub -.->|"input -> double.in"| sub__double',
        '  sub__report -.->|"done -> result"| sub',
        '  source -->|"value -> input"| sub',
      ]),
    );
    expect(text).toContain('sub["sub: doubler<br/>slots: input<br/>events: result<br/>policy: immediate<br/>subflow: doubling"]');
  });

  it('restores a parent whose child ended just before the cut from the child’s outcome, without running it again', async () => {
    await using rt = createTestRuntime({ concurrency: 1 });
    await using rt2 = createTestRuntime({ concurrency: 1 });
    let clock = rt.clock;
    let childRuns = 0;
    const quick = defineRoutine({
      name: 'quick',
      slots: ['in'],
      events: { out: ['value'] },
      run({ slots, emit }) {
        childRuns++;
        for (const { v } of slots.in) emit('out', { value: v });
      },
    });
    // With one permit: the child runs and ends, its emission starts `hog`, which keeps the permit for 100 ms while
    // the subflow activation waits to take its permit back. The cut is taken then.
    const hog = defineRoutine({ name: 'hog', slots: ['in'], run: ({ signal }) => clock.sleep(100, signal) });
    const fan = defineRoutine({ name: 'fan', slots: ['start'], events: { go: ['v'] }, run: ({ emit }) => emit('go', { v: 1 }) });
    const outer = createFlow('outer_quick')
      .add('fan', fan)
      .add('sub', asRoutine(createFlow('quick_flow').add('quick', quick), { name: 'quickSub', slots: { in: 'quick.in' }, events: { out: 'quick.out' } }))
      .add('hog', hog)
      .add('sink', sink)
      .connect('fan.go', 'sub.in')
      .connect('sub.out', 'hog.in')
      .connect('sub.out', 'sink.in');
    const job = rt.exec(outer, { params: {} });
    await rt.settle();
    const snapshot = viaJson(job.snapshot());
    expect(Object.keys(snapshot.children ?? {})).toEqual([`${job.id}/sub/1`]);
    job.cancel();
    await job.wait();
    expect(childRuns).toBe(1);
    expect(snapshot.children?.[`${job.id}/sub/1`]?.status).toBe('completed');
    expect(snapshot.routines.sub?.machine).toBe('running');

    clock = rt2.clock;
    const state = await restoreAndRun(rt2, outer, snapshot);
    expect(state.status).toBe('completed');
    expect(state.outputs['sink.seen']).toEqual([{ value: 1 }]);
    expect(state.routines.hog?.activations).toBe(1);
    expect(state.routines.sub?.activations).toBe(1);
    // Its emission is not repeated, and it did not run again.
    expect(childRuns).toBe(1);
    expect(rt2.getJob(`${job.id}/sub/1`)).toBeUndefined();
  });

  it('cancels the child and fails the activation when the parent cannot take what the child emits', async () => {
    const rt = runtime();
    const stuck = createFlow('stuck')
      .add('source', source)
      .add('sub', asRoutine(doubling, { name: 'doubler', slots: { input: 'double.in' }, events: { result: 'double.out' } }), { policy: policies.batch(3) })
      .add('sink', sink, { policy: policies.batch(10), maxQueue: 1 })
      .connect('source.value', 'sub.input')
      .connect('sub.result', 'sink.in');
    const job = rt.exec(stuck, { params: { values: [1, 2, 3] } });
    const state = await job.wait();
    expect(state.status).toBe('failed');
    expect(((job.error as Error).cause as Error).name).toBe('SlotQueueFullError');
    expect(rt.getJob(`${job.id}/sub/1`)?.status).toBe('cancelled');
  });
});
