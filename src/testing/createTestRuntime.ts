/**
 * TestRuntime: a real runtime (the same scheduler and machines) for testing flows without real time or I/O. Time
 * moves only through `rt.clock`; routines can be replaced (`mock`) or made to fail (`fail`); and what ran is
 * recorded per job (`executionOrder`, `callCount`).
 */
import {
  InvalidOptionError,
  isFlow,
  Job,
  Runtime,
  UnknownSlotError,
  WaitTimeoutError,
  type AnyRoutine,
  type ExecOptions,
  type FlowDefinition,
  type JobOf,
  type ParamsOf,
  type JobState,
  type RuntimeOptions,
} from 'slotflow';
import { assertKnownKeys } from '../util/assertSubpathKeys.js';
import { macrotask, realTimeout } from '../util/macrotask.js';
import { RoutineDoubles, type FailOptions, type LooseRoutine, type MockImpl, type MockOptions } from './RoutineDoubles.js';
import { settleWith, TestClock, timerActivity } from './TestClock.js';

/**
 * Options of `createTestRuntime`: the runtime's options, with a test clock instead of `clock`. `maxBufferedEvents`
 * defaults to `Infinity` here: `executionOrder` and `callCount` are built from the runtime's events, and a dropped
 * event would be a missing activation.
 */
export interface TestRuntimeOptions extends Omit<RuntimeOptions, 'clock'> {
  /** The test clock's time when created, in ms. @default 0 */
  readonly startTime?: number;
}

/**
 * Turns with no progress after which running activations are taken to wait on something outside the runtime's
 * reach (the test clock, their `signal`, a promise the test holds): `settle()` stops waiting for them.
 */
const STALLED_TURNS = 10;

type FlowArg = Parameters<Runtime['register']>[0];

export class TestRuntime extends Runtime {
  /** The runtime's clock: time moves only through `advance(ms)`. */
  readonly clock: TestClock;
  readonly #doubles = new RoutineDoubles();
  /** The runnable copy of each flow this runtime knows, by flow id. */
  readonly #flows = new Map<string, FlowDefinition>();
  readonly #copies = new WeakMap<FlowDefinition, FlowDefinition>();
  #events = 0;

  constructor(options: TestRuntimeOptions = {}) {
    // The runtime checks the keys it shares (unknown ones included); `clock` is the one a test runtime owns.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('createTestRuntime(options)', 'an options object', options);
    if ('clock' in options)
      throw new InvalidOptionError('createTestRuntime({ clock })', 'no clock: a test runtime has its own (rt.clock); set its start with `startTime`', (options as { clock?: unknown }).clock);
    const { startTime, ...runtimeOptions } = options;
    const clock = new TestClock(startTime === undefined ? {} : { start: startTime });
    super({ maxBufferedEvents: Number.POSITIVE_INFINITY, ...runtimeOptions, clock });
    this.clock = clock;
    settleWith(clock, () => this.settle());
    this.events$.subscribe((event) => {
      this.#events++;
      // Every activation, including one that failed in its policy and never reached the routine's `run`.
      if (event.type === 'routine.started') this.#doubles.record(event.jobId, event.routineId);
    });
  }

  override register(flow: FlowArg): this {
    if (!isFlow(flow)) return super.register(flow);
    const copy = this.#copy(flow);
    super.register(copy);
    this.#flows.set(copy.id, copy);
    return this;
  }

  override exec<TFlow extends string | FlowArg>(flowOrId: TFlow, options?: ExecOptions<ParamsOf<TFlow>>): JobOf<TFlow> {
    if (typeof flowOrId === 'string' || !isFlow(flowOrId)) {
      const known = typeof flowOrId === 'string' ? this.#flows.get(flowOrId) : undefined;
      if (known) this.#doubles.check(known, this.#flows.values());
      return super.exec<TFlow>(flowOrId, options);
    }
    const copy = this.#copy(flowOrId);
    this.#doubles.check(copy, this.#flows.values());
    const job = super.exec(copy, options as ExecOptions);
    this.#flows.set(copy.id, copy);
    return job as JobOf<TFlow>;
  }

  override post(flowId: string, routineId: string, slot: string, payload: object, options: { readonly jobId?: string } = {}): Job {
    const known = options.jobId === undefined ? this.#flows.get(flowId) : undefined;
    if (known) this.#doubles.check(known, this.#flows.values());
    return super.post(flowId, routineId, slot, payload, options);
  }

  /**
   * Replaces `routineId`'s `run` (in every flow, or in `options.flowId`) from its next activation on; `impl` also
   * gets the real `run` to call through to. A later mock of the same routine and scope replaces this one. A mock
   * naming a routine the flow lacks throws `UnknownSlotError` when that flow is run.
   * @example
   * rt.mock<typeof fetcher>('fetch', ({ emit }) => {
   *   emit('output', { data: 'canned', source: 'test' });
   * });
   */
  mock<TRoutine extends AnyRoutine = LooseRoutine>(routineId: string, impl: MockImpl<TRoutine>, options: MockOptions = {}): this {
    this.#doubles.mock(routineId, impl as MockImpl, options, this.#flows);
    return this;
  }

  /**
   * Makes `routineId`'s next `times` activations (default: every one, until `unmock`) throw `error` before its code (or
   * mock) runs; they go through the routine's error strategy as any failure does. Planned failures, scoped to a
   * flow or not, queue up in call order: an activation throws the first one that applies to its flow.
   * @example
   * rt.fail('fetch', new Error('503'), { times: 2 }); // two failures, then the real routine
   */
  fail(routineId: string, error: unknown, options: FailOptions = {}): this {
    this.#doubles.fail(routineId, error, options, this.#flows);
    return this;
  }

  /** Removes the mocks and planned failures of `routineId`, or every one. Recorded activations stay. */
  unmock(routineId?: string): this {
    if (routineId !== undefined && (typeof routineId !== 'string' || routineId === '')) throw new InvalidOptionError('unmock(routineId)', 'a routine id (a non-empty string)', routineId);
    this.#doubles.restore(routineId);
    return this;
  }

  /**
   * The routine ids `job` activated, in the order the activations started; a retry is one more entry, and so is an
   * activation that failed in its policy. Recorded from the job's `routine.started` events, so an activation shows
   * from the microtask after it started (inside a routine's `run`, its own activation is not listed yet).
   * @example
   * expect(rt.executionOrder(job)).toEqual(['fetch', 'fetch', 'parse']); // one retry
   */
  executionOrder(job: Job | string): string[] {
    const { jobId } = this.#jobOf('executionOrder', job);
    return [...(this.#doubles.order(jobId) ?? [])];
  }

  /** How many activations of `routineId` (retries and policy failures included) `job` started; see `executionOrder`. */
  callCount(job: Job | string, routineId: string): number {
    const { jobId, flowId } = this.#jobOf('callCount', job);
    const flow = flowId === undefined ? undefined : this.#flows.get(flowId);
    if (flow && !flow.routines.has(routineId)) throw new UnknownSlotError(flow.id, routineId, '', [...flow.routines.keys()], 'routine');
    return (this.#doubles.order(jobId) ?? []).filter((id) => id === routineId).length;
  }

  /**
   * Runs everything that can run without the clock moving: resolves once the runtime's work has settled (no
   * activation running or waiting for the scheduler, no pending microtask). Timers fire only through
   * `clock.advance`. Activations still running after several event-loop turns with no progress are taken to wait
   * on the clock, their `signal` or the test, and are not waited for.
   * @example
   * const job = rt.exec(flow, { params: { n: 1 } });
   * await rt.settle();
   * expect(rt.executionOrder(job)).toEqual(['double', 'sink']);
   */
  async settle(): Promise<void> {
    let mark = this.#progress();
    for (let quiet = 0; ; ) {
      await macrotask();
      const next = this.#progress();
      if (next !== mark) {
        mark = next;
        quiet = 0;
      } else if (this.running === 0 || ++quiet >= STALLED_TURNS) return;
    }
  }

  /**
   * Like `settle()`, but also waits for running activations however long they take (real I/O in an unmocked
   * routine). One that waits on the test clock never ends this way: advance the clock. `timeoutMs` counts real
   * time; past it, rejects with `WaitTimeoutError`.
   */
  idle(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    assertKnownKeys('idle(options)', options, ['timeoutMs']);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0))
      throw new InvalidOptionError('idle({ timeoutMs })', 'a number of ms from 0 and up', timeoutMs);
    const wait = { over: false };
    const idle = (async () => {
      for (;;) {
        await this.settle();
        if (this.running === 0 || wait.over) return;
        // Something outside the runtime's reach (real I/O) holds an activation: look again shortly.
        await new Promise<void>((resolve) => realTimeout(resolve, 1));
      }
    })();
    if (timeoutMs === undefined) return idle;
    return new Promise<void>((resolve, reject) => {
      // The global timer, as `job.wait({ timeoutMs })` uses: real time, or the test's fake timers.
      const timer = setTimeout(() => {
        wait.over = true;
        reject(new WaitTimeoutError(undefined, timeoutMs));
      }, timeoutMs);
      void idle.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Posts `payload` into `job`'s `routineId.slot` (as `job.post`), settles, and returns the job's state.
   * @example
   * const state = await rt.send(job, 'collector', 'input', { item: 1 });
   */
  async send(job: Job | string, routineId: string, slot: string, payload: object): Promise<JobState> {
    const handle = typeof job === 'string' ? this.getJob(job) : job;
    if (!handle || this.getJob(handle.id) !== handle) throw new InvalidOptionError('send(job)', 'a job of this test runtime', job);
    handle.post(routineId, slot, payload);
    await this.settle();
    return handle.state;
  }

  /** Shuts down cancelling what still runs: with a test clock, a job waiting on a timer would never finish. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  #copy(flow: Exclude<FlowArg, string>): FlowDefinition {
    const compiled = 'compile' in flow ? flow.compile() : flow;
    let copy = this.#copies.get(compiled);
    if (!copy) {
      copy = this.#doubles.wrap(compiled);
      this.#copies.set(compiled, copy);
      // A copy handed back to us (by a caller or a future core path) runs as it is, not wrapped twice.
      this.#copies.set(copy, copy);
    }
    return copy;
  }

  #jobOf(call: string, job: Job | string): { jobId: string; flowId: string | undefined } {
    const jobId = typeof job === 'string' ? job : job instanceof Job ? job.id : undefined;
    const handle = typeof jobId === 'string' ? this.getJob(jobId) : undefined;
    const ours = handle !== undefined && (typeof job === 'string' || handle === job);
    if (typeof jobId !== 'string' || (!ours && this.#doubles.order(jobId) === undefined)) throw new InvalidOptionError(`${call}(job)`, 'a job (or job id) of this test runtime', job);
    return { jobId, flowId: handle?.flowId ?? (job instanceof Job ? job.flowId : undefined) };
  }

  #progress(): string {
    return `${this.#events}/${timerActivity(this.clock)}/${this.#doubles.calls}/${this.running}`;
  }
}

/**
 * Creates a test runtime: a real runtime with a test clock, mocks and failure injection, and a record of what ran.
 * @example
 * import { createTestRuntime } from 'slotflow/testing';
 *
 * await using rt = createTestRuntime();
 * rt.mock('fetch', ({ emit }) => emit('output', { data: 'canned', source: 'test' }));
 * const job = rt.exec(flow, { params: { url: 'x' } });
 * await rt.settle();
 * expect(rt.executionOrder(job)).toEqual(['fetch', 'collect']);
 */
export function createTestRuntime(options: TestRuntimeOptions = {}): TestRuntime {
  return new TestRuntime(options);
}
