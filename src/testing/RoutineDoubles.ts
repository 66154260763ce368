/**
 * RoutineDoubles: the test runtime's mock and failure tables, and the record of which routines ran in which job.
 *
 * The runtime runs a copy of each flow whose routines' `run` is a dispatcher: at every activation it throws a
 * planned failure if one is due, else runs the mock if one is set, else the real `run`. The tables are read at call
 * time, so mocks set after a flow was registered (or while a job runs) apply to the next activation. Which
 * activations started is recorded from the runtime's `routine.started` events (`record`), not by the dispatcher:
 * an activation that failed in its policy never reaches `run`, but it is an activation all the same.
 */
import { assertKnownKeys } from '../util/assertSubpathKeys.js';
import { InvalidOptionError, UnknownSlotError, type AnyRoutine, type FlowDefinition, type Payload, type RoutineDefinition, type RunContext } from 'slotflow';

/** A routine with loose payload, config and state types: what a mock sees when no routine type is given. */
export type LooseRoutine = RoutineDefinition<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>>;

/**
 * A mock's implementation: it gets the routine's run context, and the routine's real `run` to call through to.
 * Give the routine's type to get its slots, events and config typed: `rt.mock<typeof fetcher>('fetch', ...)`.
 */
export type MockImpl<TRoutine extends AnyRoutine = LooseRoutine> = (ctx: Parameters<TRoutine['run']>[0], real: TRoutine['run']) => void | Promise<void>;

/** Options of `rt.mock(routineId, impl, options)`. */
export interface MockOptions {
  /** Only in this flow. @default every flow with a routine of that id */
  readonly flowId?: string;
}

/** Options of `rt.fail(routineId, error, options)`. */
export interface FailOptions {
  /** How many activations fail, from the next one. @default every activation, until `unmock()` */
  readonly times?: number;
  /** Only in this flow. @default every flow with a routine of that id */
  readonly flowId?: string;
}

type Context = RunContext<Record<string, Payload>, Record<string, Payload>, Record<string, unknown>, unknown>;
type Run = (ctx: Context) => void | Promise<void>;
type StoredMock = (ctx: Context, real: Run) => void | Promise<void>;
type RoutineInstance = FlowDefinition['routines'] extends ReadonlyMap<string, infer I> ? I : never;

interface Failure {
  /** The flow it is limited to, or `ALL_FLOWS`. */
  readonly scope: string;
  readonly error: unknown;
  remaining: number;
}

/** `''` scopes a rule to every flow (a flow id is never empty). */
const ALL_FLOWS = '';

export class RoutineDoubles {
  /** routine id -> scope -> mock. */
  readonly #mocks = new Map<string, Map<string, StoredMock>>();
  /**
   * routine id -> failures still to throw, in the order they were planned, whatever their scope: one queue, so that
   * an activation throws the first planned failure that applies to its flow.
   */
  readonly #failures = new Map<string, Failure[]>();
  /** job id -> routine ids in activation order. */
  readonly #order = new Map<string, string[]>();
  /** Activations dispatched so far (a progress mark for `settle`). */
  calls = 0;

  /** Records that an activation of `routineId` started in `jobId` (from its `routine.started` event). */
  record(jobId: string, routineId: string): void {
    const order = this.#order.get(jobId);
    if (order) order.push(routineId);
    else this.#order.set(jobId, [routineId]);
  }

  /** `known`: the flows known so far, by id; a mock scoped to one of them must name one of its routines. */
  mock(routineId: string, impl: StoredMock, options: MockOptions, known: ReadonlyMap<string, FlowDefinition>): void {
    const scope = this.#scope('mock', routineId, options, known);
    if (typeof impl !== 'function') throw new InvalidOptionError(`mock('${routineId}', impl)`, 'a function (ctx, real) => void | Promise<void>', impl);
    scopes(this.#mocks, routineId).set(scope, impl);
  }

  fail(routineId: string, error: unknown, options: FailOptions, known: ReadonlyMap<string, FlowDefinition>): void {
    const { times } = options;
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) throw new InvalidOptionError(`fail('${routineId}', error, { times })`, 'an integer from 1 and up', times);
    const scope = this.#scope('fail', routineId, options, known);
    const planned = this.#failures.get(routineId);
    const failure: Failure = { scope, error, remaining: times ?? Number.POSITIVE_INFINITY };
    if (planned) planned.push(failure);
    else this.#failures.set(routineId, [failure]);
  }

  /** Removes the mocks and planned failures of `routineId`, or all of them. */
  restore(routineId: string | undefined): void {
    if (routineId === undefined) {
      this.#mocks.clear();
      this.#failures.clear();
      return;
    }
    this.#mocks.delete(routineId);
    this.#failures.delete(routineId);
  }

  /** Throws when a mock or a planned failure names a routine that `flow`, or every flow `known`, lacks. */
  check(flow: FlowDefinition, known: Iterable<FlowDefinition>): void {
    const flows = [flow, ...known];
    for (const routineId of new Set([...this.#mocks.keys(), ...this.#failures.keys()])) {
      if (flow.routines.has(routineId)) continue;
      const failures = this.#failures.get(routineId) ?? [];
      const scoped = this.#mocks.get(routineId)?.has(flow.id) === true || failures.some((f) => f.scope === flow.id);
      const everywhere = this.#mocks.get(routineId)?.has(ALL_FLOWS) === true || failures.some((f) => f.scope === ALL_FLOWS);
      if (scoped || (everywhere && !flows.some((f) => f.routines.has(routineId)))) throw new UnknownSlotError(flow.id, routineId, '', [...flow.routines.keys()], 'routine');
    }
  }

  /** The routine ids `jobId` activated, in order, or `undefined` when none ran. */
  order(jobId: string): readonly string[] | undefined {
    return this.#order.get(jobId);
  }

  /** A copy of `flow` whose routines run through this table. */
  wrap(flow: FlowDefinition): FlowDefinition {
    const routines = new Map<string, RoutineInstance>();
    for (const [id, instance] of flow.routines) {
      const routine: AnyRoutine = Object.freeze({ ...instance.routine, run: this.#dispatcher(flow.id, id, instance.routine.run as Run) });
      // Mocks and injected failures are functions of the test, on this thread: a routine declared with
      // isolation 'thread' runs inline here (its thread behaviour is tested on a runtime from createRuntime).
      routines.set(id, Object.freeze({ ...instance, routine, isolation: 'inline' as const }));
    }
    return Object.freeze({ ...flow, routines });
  }

  #dispatcher(flowId: string, routineId: string, real: Run): Run {
    return (ctx) => {
      this.calls++;
      const failure = this.#takeFailure(flowId, routineId);
      // The test chose what to throw, Error or not: the runtime reports a non-Error as NonErrorThrownError.
      if (failure) throw failure.error;
      const mocks = this.#mocks.get(routineId);
      const mock = mocks?.get(flowId) ?? mocks?.get(ALL_FLOWS);
      return mock ? mock(ctx, real) : real(ctx);
    };
  }

  /** The first planned failure of `routineId` that applies in `flowId` (used up after its `times`). */
  #takeFailure(flowId: string, routineId: string): Failure | undefined {
    const planned = this.#failures.get(routineId);
    if (!planned) return undefined;
    const index = planned.findIndex((f) => f.scope === flowId || f.scope === ALL_FLOWS);
    const failure = planned[index];
    if (!failure) return undefined;
    if (--failure.remaining <= 0) planned.splice(index, 1);
    if (planned.length === 0) this.#failures.delete(routineId);
    return failure;
  }

  #scope(call: 'mock' | 'fail', routineId: string, options: MockOptions | FailOptions, known: ReadonlyMap<string, FlowDefinition>): string {
    if (typeof routineId !== 'string' || routineId === '') throw new InvalidOptionError(`${call}(routineId)`, 'a routine id (a non-empty string)', routineId);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`${call}('${routineId}', ..., options)`, 'an options object', options);
    assertKnownKeys(`${call}('${routineId}', ..., options)`, options, call === 'mock' ? ['flowId'] : ['times', 'flowId']);
    const { flowId } = options;
    if (flowId !== undefined && (typeof flowId !== 'string' || flowId === '')) throw new InvalidOptionError(`${call}('${routineId}', ..., { flowId })`, 'a flow id (a non-empty string)', flowId);
    const flow = flowId === undefined ? undefined : known.get(flowId);
    if (flow && !flow.routines.has(routineId)) throw new UnknownSlotError(flow.id, routineId, '', [...flow.routines.keys()], 'routine');
    return flowId ?? ALL_FLOWS;
  }
}

function scopes<T>(table: Map<string, Map<string, T>>, routineId: string): Map<string, T> {
  let byScope = table.get(routineId);
  if (!byScope) table.set(routineId, (byScope = new Map<string, T>()));
  return byScope;
}
