/**
 * createFlow: the flow builder. Routines are added under ids; `connect('a.out', 'b.in')` is checked by the
 * compiler against the routines added so far; `validate()` lists every problem; `compile()` (done by the runtime
 * on register/exec) freezes the flow.
 */
import { describeValue, FlowValidationError, InvalidOptionError, type FlowProblem } from '../errors/index.js';
import { assertErrorStrategy, isRoutineDefinition, type AnyRoutine, type ErrorStrategy } from '../routine/index.js';
import { assertKnownKeys } from '../util/assertKnownKeys.js';
import { freezeLimits, isolationProblems, threadedInstanceProblems } from '../threads/isolation.js';
import { assertDuration, assertPositiveInteger } from '../util/assertOption.js';
import { reservedNameProblem } from '../util/reservedName.js';
import type { ConnectOptions, Connection, FlowDefinition, RoutineInstance } from './FlowDefinition.js';
import type { FlowManifest } from './FlowManifest.js';
import { manifestOf, type FlowGraph } from './toManifest.js';
import { mermaidOf } from './toMermaid.js';
import type { RoutineMap } from './types.js';
import { validateFlow } from './validateFlow.js';
import { deepFreeze } from '../util/deepFreeze.js';
import type { AddOptions, FlowBuilder } from './FlowBuilder.js';

export type { AddOptions, FlowBuilder } from './FlowBuilder.js';

/**
 * Starts a flow.
 * @example
 * const flow = createFlow('fetch_flow')
 *   .add('fetcher', fetcher)
 *   .add('collector', collector)
 *   .connect('fetcher.output', 'collector.input')
 *   .entry('fetcher', 'trigger');
 */
export function createFlow(id: string): FlowBuilder {
  if (typeof id !== 'string' || id === '') throw new InvalidOptionError('createFlow(id)', 'a non-empty string', id);
  return new FlowBuilderImpl(id) as unknown as FlowBuilder;
}

const ADD_KEYS = ['config', 'policy', 'onError', 'timeoutMs', 'maxQueue', 'isolation', 'resourceLimits'] as const;
const CONNECT_KEYS = ['name', 'maxIterations', 'until', 'onExhausted'] as const;

class FlowBuilderImpl {
  readonly #routines = new Map<string, RoutineInstance>();
  readonly #connections: Connection[] = [];
  readonly #early: FlowProblem[] = [];
  #entry: { routine: string; slot: string } | undefined;
  #onError: ErrorStrategy | undefined;
  #compiled: FlowDefinition | undefined;

  constructor(readonly id: string) {}

  add(id: string, routine: AnyRoutine, options: AddOptions = {}): this {
    this.#assertOpen();
    const path = `routines.${id}`;
    if (typeof id !== 'string' || id === '' || id.includes('.')) {
      this.#early.push({ path: 'routines', message: `routine id must be a non-empty string without '.', got ${JSON.stringify(id)}` });
      return this;
    }
    const reserved = reservedNameProblem('routine id', id);
    if (reserved !== undefined) {
      this.#early.push({ path: 'routines', message: reserved });
      return this;
    }
    if (!isRoutineDefinition(routine)) {
      this.#early.push({ path, message: `expected a routine from defineRoutine(), got ${typeof routine}` });
      return this;
    }
    if (this.#routines.has(id)) {
      this.#early.push({ path, message: `duplicate routine id '${id}' in flow '${this.id}'; ids must be unique` });
      return this;
    }
    try {
      assertKnownKeys(`flow.add('${id}', routine, options)`, options, ADD_KEYS);
      if (options.timeoutMs !== undefined) assertDuration(`${path}.timeoutMs`, options.timeoutMs);
      if (options.maxQueue !== undefined) assertPositiveInteger(`${path}.maxQueue`, options.maxQueue);
      if (options.onError !== undefined) assertErrorStrategy(`${path}.onError`, options.onError);
      if (options.policy !== undefined && (typeof options.policy !== 'object' || typeof options.policy.ready !== 'function'))
        throw new InvalidOptionError(`${path}.policy`, 'a policy from policies.*', options.policy);
    } catch (error) {
      this.#early.push({ path, message: error instanceof Error ? error.message : String(error) });
      return this;
    }
    const threadProblems = isolationProblems({ isolation: options.isolation, resourceLimits: options.resourceLimits });
    if (threadProblems.length) {
      for (const message of threadProblems) this.#early.push({ path, message });
      return this;
    }
    const isolation = options.isolation ?? routine.isolation;
    if (isolation === 'thread') this.#early.push(...threadedInstanceProblems(id, routine.name, routine.module));
    const policy = options.policy ?? routine.policy;
    for (const slot of policy.slots ?? [])
      if (!routine.slotNames.includes(slot))
        this.#early.push({ path: `${path}.policy`, message: `policy '${policy.name}' names slot '${slot}', which routine '${id}' does not have; expected one of ${routine.slotNames.map((s) => `'${s}'`).join(', ')}` });
    this.#routines.set(id, {
      id,
      routine,
      config: deepFreeze({ ...routine.config, ...(options.config ?? {}) }),
      policy,
      onError: options.onError ?? routine.onError,
      timeoutMs: options.timeoutMs ?? routine.timeoutMs,
      maxQueue: options.maxQueue ?? routine.maxQueue,
      isolation,
      resourceLimits: options.resourceLimits === undefined ? routine.resourceLimits : freezeLimits(options.resourceLimits),
    });
    return this;
  }

  connect(from: string, to: string, options: ConnectOptions = {}): this {
    this.#assertOpen();
    const index = this.#connections.length;
    const path = `connections[${index}]`;
    const [fromRoutine, fromEvent] = splitRef(from);
    const [toRoutine, toSlot] = splitRef(to);
    try {
      assertKnownKeys(`flow.connect('${from}', '${to}', options)`, options, CONNECT_KEYS);
    } catch (error) {
      this.#early.push({ path, message: (error as Error).message });
      options = {};
    }
    let name = `${from}->${to}`;
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
      this.#early.push({ path: `${path}.name`, message: `expected a non-empty string, got ${describeValue(options.name)}` });
    else if (options.name !== undefined) name = options.name;
    const reserved = reservedNameProblem('connection name', name);
    if (reserved !== undefined) this.#early.push({ path: `${path}.name`, message: reserved });
    let bound: Connection['bound'];
    if (options.maxIterations !== undefined || options.until !== undefined || options.onExhausted !== undefined) {
      if (options.maxIterations === undefined) {
        this.#early.push({ path: `${path}.maxIterations`, message: `connection '${name}' has \`until\`/\`onExhausted\` but no \`maxIterations\`; a cycle edge needs a bound` });
      } else if (!Number.isInteger(options.maxIterations) || options.maxIterations < 1) {
        this.#early.push({ path: `${path}.maxIterations`, message: `expected an integer from 1 and up, got ${String(options.maxIterations)}` });
      } else if (options.until !== undefined && typeof options.until !== 'function') {
        this.#early.push({ path: `${path}.until`, message: 'expected a function (payload, ctx) => boolean' });
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
      } else if (options.onExhausted !== undefined && options.onExhausted !== 'continue' && options.onExhausted !== 'fail') {
        this.#early.push({ path: `${path}.onExhausted`, message: `expected 'continue' or 'fail', got ${String(options.onExhausted)}` });
      } else {
        bound = { maxIterations: options.maxIterations, until: options.until, onExhausted: options.onExhausted ?? 'continue' };
      }
    }
    this.#connections.push({ index, name, from: { routine: fromRoutine, event: fromEvent }, to: { routine: toRoutine, slot: toSlot }, bound });
    return this;
  }

  entry(routine: string, slot?: string): this {
    this.#assertOpen();
    const instance = this.#routines.get(routine);
    this.#entry = { routine, slot: slot ?? instance?.routine.slotNames[0] ?? '' };
    return this;
  }

  onError(strategy: ErrorStrategy): this {
    this.#assertOpen();
    try {
      assertErrorStrategy(`flow '${this.id}' onError`, strategy);
      this.#onError = strategy;
    } catch (error) {
      this.#early.push({ path: 'onError', message: (error as Error).message });
    }
    return this;
  }

  validate(): FlowProblem[] {
    return validateFlow({ id: this.id, routines: this.#routines, connections: this.#connections, entry: this.#effectiveEntry(), early: this.#early });
  }

  compile(): FlowDefinition {
    if (this.#compiled) return this.#compiled;
    const problems = this.validate();
    if (problems.length) throw new FlowValidationError(this.id, problems);
    const outgoing = new Map<string, Connection[]>();
    for (const c of this.#connections) {
      const key = `${c.from.routine}.${c.from.event}`;
      const list = outgoing.get(key) ?? [];
      list.push(c);
      outgoing.set(key, list);
    }
    this.#compiled = Object.freeze({
      kind: 'slotflow.flow',
      id: this.id,
      routines: new Map(this.#routines),
      connections: Object.freeze([...this.#connections]),
      outgoing,
      entry: this.#effectiveEntry(),
      onError: this.#onError,
    });
    return this.#compiled;
  }

  toMermaid(): string {
    return mermaidOf(this.#compiled ?? this.#draft());
  }

  toManifest(): FlowManifest {
    if (this.#compiled) return manifestOf(this.#compiled);
    const problems = this.validate();
    if (problems.length) throw new FlowValidationError(this.id, problems);
    return manifestOf(this.#draft());
  }

  #draft(): FlowGraph {
    return { id: this.id, routines: this.#routines, connections: this.#connections, entry: this.#effectiveEntry(), onError: this.#onError };
  }

  #effectiveEntry(): { routine: string; slot: string } | undefined {
    if (this.#entry) return this.#entry;
    const first = this.#routines.values().next();
    if (first.done) return undefined;
    return { routine: first.value.id, slot: first.value.routine.slotNames[0] ?? '' };
  }

  #assertOpen(): void {
    if (this.#compiled)
      throw new FlowValidationError(this.id, [{ path: '', message: `flow '${this.id}' is compiled (registered or run) and can no longer change; build a new one with createFlow()` }]);
  }
}

function splitRef(ref: unknown): [string, string] {
  if (typeof ref !== 'string') return ['', ''];
  const dot = ref.indexOf('.');
  return dot < 0 ? [ref, ''] : [ref.slice(0, dot), ref.slice(dot + 1)];
}

/** True for a flow builder or a compiled flow. */
export function isFlow(value: unknown): value is FlowBuilder<RoutineMap> | FlowDefinition {
  return value instanceof FlowBuilderImpl || (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'slotflow.flow');
}

/** The compiled form of a builder or an already compiled flow. */
export function compileFlow(flow: FlowBuilder<RoutineMap> | FlowDefinition): FlowDefinition {
  return 'compile' in flow ? flow.compile() : flow;
}
