import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFlow, createRuntime, defineRoutine, JobCancelledError, RuntimeClosedError, WaitTimeoutError, type Job } from 'slotflow';
import { ManualClock } from '../helpers/clock.js';
import { Gate } from '../helpers/deferred.js';
import { flush } from '../helpers/flush.js';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

/** A one-routine flow whose activation waits at `gate` (labelled with the job id). */
function gatedFlow(id: string, gate: Gate) {
  const work = defineRoutine({
    name: 'work',
    slots: ['in'],
    async run({ job, signal }) {
      await gate.enter(job.id, signal);
    },
  });
  return createFlow(id).add('work', work);
}

/** A flow whose `src` fans out to `width` gated workers, so one job has `width` ready activations. */
function fanOutFlow(id: string, width: number, gate: Gate) {
  const src = defineRoutine({
    name: 'src',
    slots: ['in'],
    events: { go: [] },
    run({ emit }) {
      emit('go', {});
    },
  });
  const worker = defineRoutine({
    name: 'worker',
    slots: ['in'],
    async run({ job, routineId, signal }) {
      await gate.enter(`${job.id}:${routineId}`, signal);
    },
  });
  let flow = createFlow(id).add('src', src) as unknown as {
    add(id: string, r: unknown): typeof flow;
    connect(from: string, to: string): typeof flow;
  };
  for (let i = 0; i < width; i++) flow = flow.add(`w${i}`, worker).connect('src.go', `w${i}.in`);
  return flow as never as ReturnType<typeof createFlow>;
}

/** Releases held activations one at a time until none is held, letting the runtime start more in between. */
async function drain(gate: Gate): Promise<void> {
  await flush();
  while (gate.inside > 0) {
    gate.releaseNext();
    await flush();
  }
}

describe('Runtime concurrency', () => {
  it('bounds the activations running at once across all jobs', async () => {
    const gate = new Gate();
    const rt = runtime({ concurrency: 3 });
    const flow = gatedFlow('bounded', gate);

    const jobs = Array.from({ length: 8 }, () => rt.exec(flow, { params: {} }));
    await flush();
    expect(gate.inside).toBe(3);
    expect(rt.running).toBe(3);

    await drain(gate);
    const states = await Promise.all(jobs.map((j) => j.wait()));

    expect(gate.maxInside).toBe(3);
    expect(gate.log).toHaveLength(8);
    expect(states.every((s) => s.status === 'completed')).toBe(true);
  });

  it('bounds activations of many routines within and across jobs', async () => {
    const gate = new Gate();
    const rt = runtime({ concurrency: 4 });
    const flow = fanOutFlow('wide', 6, gate);

    const jobs = [rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} }), rt.exec(flow, { params: {} })];
    await flush();
    expect(gate.inside).toBe(4);

    await drain(gate);
    await Promise.all(jobs.map((j) => j.wait()));
    expect(gate.maxInside).toBe(4);
    expect(gate.log).toHaveLength(18);
  });
});

describe('Runtime concurrency after jobs end early', () => {
  const sleeper = (clock: ManualClock) =>
    defineRoutine({
      name: 'sleeper',
      slots: ['in'],
      async run({ signal }) {
        await clock.sleep(60_000, signal); // honours its signal
      },
    });

  it('a cancelled job gives its activation permits back', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock, concurrency: 1 });
    const stuck = rt.exec(createFlow('stuck').add('sleeper', sleeper(clock)), { params: {} });
    await flush();
    expect(rt.running).toBe(1);

    stuck.cancel();
    await stuck.wait();

    const quick = defineRoutine({ name: 'quick', slots: ['in'], run() {} });
    const next = rt.exec(createFlow('after_cancel').add('quick', quick), { params: {} });
    await flush();
    expect(next.status).toBe('completed');
    expect(rt.running).toBe(0);
  });

  it('a job failed by its timeout gives its activation permits back', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock, concurrency: 1 });
    const slow = rt.exec(createFlow('slow_timeout').add('sleeper', sleeper(clock)), { params: {}, timeoutMs: 100 });
    await flush();
    await clock.advance(100);
    expect(slow.status).toBe('failed');

    const quick = defineRoutine({ name: 'quick', slots: ['in'], run() {} });
    const next = rt.exec(createFlow('after_timeout').add('quick', quick), { params: {} });
    await flush();
    expect(next.status).toBe('completed');
    expect(rt.running).toBe(0);
  });

  it("a job failed by another routine's error gives the permits of its in-flight activations back", async () => {
    const clock = new ManualClock();
    const boom = defineRoutine({
      name: 'boom',
      slots: ['in'],
      async run() {
        await clock.sleep(10);
        throw new Error('boom');
      },
    });
    const rt = runtime({ clock, concurrency: 2 });
    const flow = createFlow('one_fails').add('sleeper', sleeper(clock)).add('boom', boom).entry('sleeper', 'in');
    const job = rt.exec(flow, { params: {} });
    job.post('boom', 'in', {});
    await flush();
    expect(rt.running).toBe(2);
    await clock.advance(10);
    expect(job.status).toBe('failed');

    // Both permits are free again: two new activations run side by side.
    const gate = new Gate();
    const flowAfter = gatedFlow('after_fail', gate);
    rt.exec(flowAfter, { params: {} });
    rt.exec(flowAfter, { params: {} });
    await flush();
    expect(gate.inside).toBe(2);
    gate.releaseAll();
    await flush();
    expect(rt.running).toBe(0);
  });
});

describe('Runtime maxJobs', () => {
  it('keeps jobs past maxJobs queued, and admits them in order as others finish', async () => {
    const gate = new Gate();
    const rt = runtime({ maxJobs: 2 });
    const flow = gatedFlow('admission', gate);

    const [a, b, c, d] = Array.from({ length: 4 }, () => rt.exec(flow, { params: {} })) as [Job, Job, Job, Job];
    await flush();
    expect([a.status, b.status, c.status, d.status]).toEqual(['running', 'running', 'queued', 'queued']);
    expect(gate.held.map((e) => e.info)).toEqual([a.id, b.id]);

    gate.held[0]?.release();
    await a.wait();
    await flush();
    expect([a.status, b.status, c.status, d.status]).toEqual(['completed', 'running', 'running', 'queued']);
    expect(gate.held.map((e) => e.info)).toEqual([b.id, c.id]);

    await drain(gate);
    await rt.waitForAll();
    expect(gate.log).toEqual([a.id, b.id, c.id, d.id]);
    expect(gate.maxInside).toBe(2);
  });

  it('a queued job emits job.queued, then job.started when admitted', async () => {
    const gate = new Gate();
    const rt = runtime({ maxJobs: 1 });
    const flow = gatedFlow('queued_events', gate);

    rt.exec(flow, { params: {} });
    const second = rt.exec(flow, { params: {} });
    const types: string[] = [];
    second.events$.subscribe((e) => types.push(e.type));

    await drain(gate);
    await rt.waitForAll();
    await flush();
    expect(types[0]).toBe('job.queued');
    expect(types[1]).toBe('job.started');
    expect(types.at(-1)).toBe('job.completed');
  });

  it('cancelling a queued job frees nothing and never starts it', async () => {
    const gate = new Gate();
    const rt = runtime({ maxJobs: 1 });
    const flow = gatedFlow('cancel_queued', gate);
    const first = rt.exec(flow, { params: {} });
    const second = rt.exec(flow, { params: {} });
    const third = rt.exec(flow, { params: {} });

    second.cancel();
    expect((await second.wait()).status).toBe('cancelled');
    await drain(gate);
    await rt.waitForAll();

    expect(gate.log).toEqual([first.id, third.id]);
  });
});

describe('Runtime scheduler fairness', () => {
  it('does not let a job with 50 ready activations starve another job', async () => {
    const gate = new Gate();
    const rt = runtime({ concurrency: 1 });
    const busy = rt.exec(fanOutFlow('busy', 50, gate), { params: {} });
    await flush();
    expect(gate.inside).toBe(1);

    const other = rt.exec(gatedFlow('other', gate), { params: {} });
    await drain(gate);
    await Promise.all([busy.wait(), other.wait()]);

    const otherAt = gate.log.indexOf(other.id);
    const busyAfter = gate.log.slice(otherAt + 1).filter((info) => info.startsWith(busy.id));
    expect(otherAt).toBeGreaterThan(0);
    // The other job's activation started while (nearly all of) the busy job's backlog still waited.
    expect(busyAfter.length).toBeGreaterThanOrEqual(45);
    expect(gate.log).toHaveLength(51);
  });

  it('alternates between two jobs that both have a backlog', async () => {
    const gate = new Gate();
    const rt = runtime({ concurrency: 1 });
    const a = rt.exec(fanOutFlow('a_flow', 10, gate), { params: {} });
    const b = rt.exec(fanOutFlow('b_flow', 10, gate), { params: {} });

    await drain(gate);
    await Promise.all([a.wait(), b.wait()]);

    const owners = gate.log.map((info) => (info.startsWith(a.id) ? 'a' : 'b'));
    expect(owners).toHaveLength(20);
    // Never more than two in a row from one job while the other still waits.
    const firstTen = owners.slice(0, 10).join('');
    expect(firstTen).not.toMatch(/aaa|bbb/);
  });
});

describe('Runtime#getJob and Runtime#listJobs', () => {
  it('getJob returns the very handle exec returned, while running and once finished', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(gatedFlow('handles', gate), { params: {} });

    expect(rt.getJob(job.id)).toBe(job);
    await drain(gate);
    await job.wait();
    expect(rt.getJob(job.id)).toBe(job);
    expect(rt.getJob('no-such-job')).toBeUndefined();
  });

  it('listJobs filters by status and by flowId, returning handles in creation order', async () => {
    const gate = new Gate();
    const rt = runtime();
    const quick = defineRoutine({ name: 'quick', slots: ['in'], run() {} });
    const slowFlow = gatedFlow('slow', gate);
    const quickFlow = createFlow('quick').add('quick', quick);

    const s1 = rt.exec(slowFlow, { params: {} });
    const q1 = rt.exec(quickFlow, { params: {} });
    const s2 = rt.exec(slowFlow, { params: {} });
    const q2 = rt.exec(quickFlow, { params: {} });
    await q1.wait();
    await q2.wait();
    await flush();

    expect(rt.listJobs()).toEqual([s1, q1, s2, q2]);
    expect(rt.listJobs({ status: 'running' })).toEqual([s1, s2]);
    expect(rt.listJobs({ status: 'completed' })).toEqual([q1, q2]);
    expect(rt.listJobs({ flowId: 'quick' })).toEqual([q1, q2]);
    expect(rt.listJobs({ flowId: 'slow', status: 'completed' })).toEqual([]);
    expect(rt.listJobs({ flowId: 'nope' })).toEqual([]);

    s1.cancel();
    await s1.wait();
    expect(rt.listJobs({ status: 'cancelled' })).toEqual([s1]);
    expect(rt.listJobs({ flowId: 'slow', status: 'running' })).toEqual([s2]);
  });

  it('retain keeps only the newest finished jobs', async () => {
    const quick = defineRoutine({ name: 'quick', slots: ['in'], run() {} });
    const rt = runtime({ retain: 2 });
    const flow = createFlow('retained').add('quick', quick);

    const jobs: Job[] = [];
    for (let i = 0; i < 5; i++) {
      const job = rt.exec(flow, { params: {} });
      jobs.push(job);
      await job.wait();
    }

    expect(rt.listJobs()).toEqual(jobs.slice(3));
    expect(rt.getJob(jobs[0]?.id ?? '')).toBeUndefined();
    expect(rt.getJob(jobs[2]?.id ?? '')).toBeUndefined();
    expect(rt.getJob(jobs[4]?.id ?? '')).toBe(jobs[4]);
  });

  it('retain never evicts an unfinished job', async () => {
    const gate = new Gate();
    const quick = defineRoutine({ name: 'quick', slots: ['in'], run() {} });
    const rt = runtime({ retain: 0 });
    const running = rt.exec(gatedFlow('long', gate), { params: {} });
    const done = rt.exec(createFlow('short').add('quick', quick), { params: {} });
    await done.wait();

    expect(rt.getJob(done.id)).toBeUndefined();
    expect(rt.getJob(running.id)).toBe(running);
    expect(rt.listJobs()).toEqual([running]);

    await drain(gate);
    await running.wait();
    expect(rt.listJobs()).toEqual([]);
  });
});

describe('Runtime#waitForAll', () => {
  it('resolves with the final state of every job, whatever its status', async () => {
    const gate = new Gate();
    const boom = defineRoutine({
      name: 'boom',
      slots: ['in'],
      run() {
        throw new Error('boom');
      },
    });
    const rt = runtime();
    const ok = rt.exec(gatedFlow('ok', gate), { params: {} });
    const bad = rt.exec(createFlow('bad').add('boom', boom), { params: {} });
    const cancelled = rt.exec(gatedFlow('cancelled', gate), { params: {} });
    const all = rt.waitForAll();
    await flush();
    cancelled.cancel();
    await drain(gate);
    const states = await all;

    const byId = new Map(states.map((s) => [s.jobId, s.status]));
    expect(byId).toEqual(
      new Map([
        [ok.id, 'completed'],
        [bad.id, 'failed'],
        [cancelled.id, 'cancelled'],
      ]),
    );
  });

  it('rejects with WaitTimeoutError when timeoutMs passes first on the runtime clock; the jobs keep running', async () => {
    const gate = new Gate();
    const clock = new ManualClock();
    const rt = runtime({ clock });
    const job = rt.exec(gatedFlow('slow_all', gate), { params: {} });
    await flush();

    const waiting = rt.waitForAll({ timeoutMs: 1_000 });
    let settled = false;
    waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    const rejected = expect(waiting).rejects.toBeInstanceOf(WaitTimeoutError);
    await clock.advance(999);
    expect(settled).toBe(false);
    expect(job.status).toBe('running');
    await clock.advance(1);
    await rejected;

    expect(job.status).toBe('running');
    gate.releaseAll();
    expect((await job.wait()).status).toBe('completed');
    await expect(rt.waitForAll({ timeoutMs: 1_000 })).resolves.toBeInstanceOf(Array);
  });
});

describe('Runtime#cancelAll', () => {
  it('cancels every unfinished job, queued ones included, aborting running activations', async () => {
    const gate = new Gate();
    const rt = runtime({ maxJobs: 2 });
    const flow = gatedFlow('cancel_all', gate);
    const jobs = Array.from({ length: 3 }, () => rt.exec(flow, { params: {} }));
    await flush();
    const held = gate.held;
    expect(jobs.map((j) => j.status)).toEqual(['running', 'running', 'queued']);

    rt.cancelAll('maintenance');
    const states = await Promise.all(jobs.map((j) => j.wait()));

    expect(states.map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(held.every((e) => e.signal?.aborted === true)).toBe(true);
    expect(held[0]?.signal?.reason).toBeInstanceOf(JobCancelledError);
    expect(jobs[2]?.error).toBeInstanceOf(JobCancelledError);
    await flush();
    expect(gate.log).toHaveLength(2);
  });
});

describe('Runtime#shutdown', () => {
  it('shutdown({ wait: true }) lets running jobs finish and refuses new ones', async () => {
    const gate = new Gate();
    const rt = runtime();
    const flow = gatedFlow('graceful', gate);
    const job = rt.exec(flow, { params: {} });
    await flush();

    let done = false;
    const closing = rt.shutdown({ wait: true }).then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    expect(job.status).toBe('running');
    expect(() => rt.exec(flow, { params: {} })).toThrow(RuntimeClosedError);

    gate.releaseAll();
    await closing;
    expect(job.status).toBe('completed');
  });

  it('shutdown() cancels running jobs', async () => {
    const gate = new Gate();
    const rt = runtime();
    const job = rt.exec(gatedFlow('abrupt', gate), { params: {} });
    await flush();
    const [entry] = gate.held;

    await rt.shutdown();

    expect(job.status).toBe('cancelled');
    expect(entry?.signal?.aborted).toBe(true);
  });

  it('is idempotent', async () => {
    const rt = runtime();
    await rt.shutdown();
    await expect(rt.shutdown({ wait: true })).resolves.toBeUndefined();
  });

  it('await using shuts the runtime down at the end of the block, letting jobs finish', async () => {
    const steps = defineRoutine({
      name: 'steps',
      slots: ['in'],
      async run({ log }) {
        await Promise.resolve();
        log('step');
      },
    });
    let job: Job | undefined;
    let escaped: ReturnType<typeof createRuntime> | undefined;
    {
      await using rt = createRuntime();
      escaped = rt;
      job = rt.exec(createFlow('disposed').add('steps', steps), { params: {} });
      expect(job.status).toBe('running');
    }
    expect(job.status).toBe('completed');
    expect(job.state.log).toEqual(['step']);
    expect(() => escaped.exec('disposed', { params: {} })).toThrow(RuntimeClosedError);
  });
});
