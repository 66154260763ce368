/**
 * loadFlow: a flow from a manifest (YAML or JSON text, or the parsed object), with routines looked up by type
 * name in a registry. Every problem in the document is reported at once, in a `ManifestError`, each with its path.
 */
import { asRoutine, createFlow, InvalidOptionError, ManifestError, policies, type ActivationPolicy, type AnyRoutine, type ErrorStrategy, type FlowBuilder, type FlowManifest, type ManifestProblem, type RoutineMap } from 'slotflow';
import { assertKnownKeys } from '../util/assertSubpathKeys.js';
import { closest } from '../util/unknownKey.js';
import { reservedNameProblem } from '../util/reservedName.js';
import { cycleMessage, unboundedCycles } from '../flow/validateFlow.js';
import { describeSyntaxProblem, expressionFields, parseExpression } from './compileExpression.js';
import { findTooDeep, MAX_MANIFEST_DEPTH } from './findTooDeep.js';
import type { RoutineRegistry } from './createRoutineRegistry.js';
import { quoteList } from './describeInput.js';
import { issuesToProblems } from './issuesToProblems.js';
import { manifestSchema, REF, type ParsedManifest } from './manifestSchema.js';
import { parseManifestText } from './parseManifestText.js';
import { record } from './record.js';
import { resolveConfig, type Env } from './resolveConfig.js';

/** Options of `loadFlow`. */
export interface LoadFlowOptions {
  /** The routine definitions a manifest's `type`s name. */
  readonly routines: RoutineRegistry;
  /** Where `${env.NAME}` references are looked up. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A name for the manifest in errors (its file path). */
  readonly source?: string;
}

/**
 * Builds a flow from a manifest: YAML or JSON text, or an object. The result is what `createFlow` builds, ready for
 * `runtime.register` or `runtime.exec`. Throws `ManifestError` listing every problem with its path.
 * @example
 * const routines = createRoutineRegistry([fetcher, collector]);
 * const flow = loadFlow(await readFile('flow.yaml', 'utf8'), { routines, source: 'flow.yaml' });
 * await runtime.exec(flow, { params: { url } }).wait();
 */
export function loadFlow(manifest: string | FlowManifest, options: LoadFlowOptions): FlowBuilder<RoutineMap> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
  if (options === undefined) throw new InvalidOptionError('loadFlow(manifest, options)', 'an options object with `routines`', options);
  assertKnownKeys('loadFlow(manifest, options)', options, ['routines', 'env', 'source']);
  const { routines: registry, source } = options;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
  if (typeof registry?.get !== 'function') throw new InvalidOptionError('loadFlow(manifest, { routines })', 'a registry from createRoutineRegistry()', registry);
  const env = options.env ?? (globalThis as { process?: { env?: Env } }).process?.env ?? {};
  const doc = withoutExtensions(typeof manifest === 'string' ? parseManifestText(manifest, source) : manifest);
  const deep = findTooDeep(doc);
  if (deep !== undefined) throw new ManifestError([{ path: deep, message: `nested more than ${MAX_MANIFEST_DEPTH} levels deep; a flow manifest needs only a few` }], source);
  return loadOne(doc, registry, env, source, undefined);
}

/**
 * One flow of a manifest. The main flow first builds the flows of its `flows` section (each once, those it uses
 * before it: see `loadSubflows`); a flow of that section gets the ones built so far.
 */
function loadOne(doc: unknown, registry: RoutineRegistry, env: Env, source: string | undefined, given: Subflows | undefined): FlowBuilder<RoutineMap> {
  const parsed = manifestSchema.safeParse(doc);
  const problems = parsed.success ? [] : issuesToProblems(parsed.error.issues);
  const subflows = given ?? (parsed.success ? loadSubflows(doc, registry, env, source, problems) : { built: new Map(), failed: new Set<string>() });
  const checked = checkReferences(doc, registry, env, problems, subflows);
  if (!parsed.success || problems.length > 0) {
    // The flow cannot be built, but its graph can be read: an unbounded cycle is reported in the same round.
    problems.push(...cycleProblems(doc));
    throw new ManifestError(inDocumentOrder(problems, doc), source);
  }

  const flow = build(parsed.data, checked);
  const flowProblems = flow.validate().map((p) => ({ path: p.path === 'onError' ? 'defaults.onError' : p.path, message: p.message }));
  if (flowProblems.length > 0) throw new ManifestError(flowProblems, source);
  return flow as unknown as FlowBuilder<RoutineMap>;
}

/** The document without its top-level `x-*` fields: they hold YAML anchors for the rest (`x-defaults: &defaults`). */
function withoutExtensions(doc: unknown): unknown {
  const fields = record(doc);
  const keys = Object.keys(fields);
  if (!keys.some(isExtension)) return doc;
  return Object.fromEntries(keys.filter((key) => !isExtension(key)).map((key) => [key, fields[key]]));
}

const isExtension = (key: string) => key.startsWith('x-');

/** What the reference checks learned: each routine's definition and resolved config, each `until` compiled. */
interface Checked {
  readonly definitions: Map<string, AnyRoutine>;
  readonly configs: Map<string, Record<string, unknown>>;
  readonly until: Map<number, (payload: unknown) => boolean>;
}

/**
 * What the schema cannot check: routine types, the events and slots connections and the entry name, config keys
 * and environment variables, `until` syntax. Works on the raw document, skipping what the schema already rejects,
 * so one run reports both kinds of problem.
 */
function checkReferences(doc: unknown, registry: RoutineRegistry, env: Env, problems: ManifestProblem[], subflows: Subflows): Checked {
  const checked: Checked = { definitions: new Map(), configs: new Map(), until: new Map() };
  const root = record(doc);
  const routines = record(root.routines);
  const ids = Object.keys(routines);
  for (const [id, value] of Object.entries(routines)) {
    const reserved = reservedNameProblem('routine id', id);
    if (reserved !== undefined) {
      problems.push({ path: `routines.${id}`, message: reserved });
      continue;
    }
    const routine = record(value);
    if (typeof routine.type !== 'string' || routine.type === '') continue;
    const def = routine.type.startsWith(FLOW_TYPE) ? subflowRoutine(id, routine, subflows, problems) : registry.get(routine.type);
    if (!def && routine.type.startsWith(FLOW_TYPE)) continue;
    if (!routine.type.startsWith(FLOW_TYPE))
      for (const field of ['slots', 'events'] as const)
        if (routine[field] !== undefined) problems.push({ path: `routines.${id}.${field}`, message: `only a subflow (type: flow:<id>) maps ${field}; routine type '${routine.type}' declares its own` });
    if (!def) {
      problems.push({ path: `routines.${id}.type`, message: `unknown routine type '${routine.type}'; expected one of ${quoteList(registry.names())} (the registered routines)` });
      continue;
    }
    checked.definitions.set(id, def);
    const config = record(routine.config);
    checked.configs.set(id, resolveConfig(config, def.config as Record<string, unknown>, def.name, env, `routines.${id}.config`, problems));
    const slots = record(routine.policy).slots;
    if (Array.isArray(slots))
      slots.forEach((slot, i) => {
        if (typeof slot === 'string' && !def.slotNames.includes(slot)) problems.push({ path: `routines.${id}.policy.slots[${i}]`, message: noSuch(id, def, 'slot', slot) });
      });
  }

  const connections = Array.isArray(root.connections) ? (root.connections as unknown[]) : [];
  connections.forEach((value, i) => {
    checkConnection(value, i, ids, checked, problems);
  });

  const entry = record(root.entry);
  if (typeof entry.routine === 'string' && entry.routine !== '') {
    const def = checked.definitions.get(entry.routine);
    if (!ids.includes(entry.routine)) problems.push({ path: 'entry.routine', message: `unknown routine '${entry.routine}'; expected one of ${quoteList(ids)}` });
    else if (def && typeof entry.slot === 'string' && entry.slot !== '' && !def.slotNames.includes(entry.slot)) problems.push({ path: 'entry.slot', message: noSuch(entry.routine, def, 'slot', entry.slot) });
  }
  return checked;
}

/** Connection `i`: its routines, event and slot exist, its name is not reserved, its `until` compiles and reads declared fields. */
function checkConnection(value: unknown, i: number, ids: readonly string[], checked: Checked, problems: ManifestProblem[]): void {
  const connection = record(value);
  for (const side of ['from', 'to'] as const) {
    const ref = connection[side];
    if (typeof ref !== 'string' || !REF.test(ref)) continue;
    const [id = '', name = ''] = ref.split('.');
    const def = checked.definitions.get(id);
    const kind = side === 'from' ? 'event' : 'slot';
    if (!ids.includes(id)) problems.push({ path: `connections[${i}].${side}`, message: `unknown routine '${id}' in '${ref}'; expected one of ${quoteList(ids)}` });
    else if (def && !(kind === 'event' ? def.eventNames : def.slotNames).includes(name)) problems.push({ path: `connections[${i}].${side}`, message: noSuch(id, def, kind, name) });
  }
  if (typeof connection.name === 'string') {
    const reserved = reservedNameProblem('connection name', connection.name);
    if (reserved !== undefined) problems.push({ path: `connections[${i}].name`, message: reserved });
  }
  if (typeof connection.until === 'string' && connection.until !== '') {
    const compiled = parseExpression(connection.until);
    if ('column' in compiled) problems.push({ path: `connections[${i}].until`, message: describeSyntaxProblem(connection.until, compiled) });
    else {
      checked.until.set(i, compiled);
      const from = typeof connection.from === 'string' && REF.test(connection.from) ? connection.from : undefined;
      const problem = from === undefined ? undefined : undeclaredField(connection.until, from, checked.definitions);
      if (problem !== undefined) problems.push({ path: `connections[${i}].until`, message: problem });
    }
  }
}

const FLOW_TYPE = 'flow:';

/** The flows of a manifest's `flows` section: built, or not buildable (their problems are reported already). */
interface Subflows {
  readonly built: ReadonlyMap<string, FlowBuilder<RoutineMap>>;
  readonly failed: ReadonlySet<string>;
}

/** The routine of a `type: flow:<id>` entry: that flow of the `flows` section, with the entry's slot and event mappings. */
function subflowRoutine(id: string, routine: Record<string, unknown>, subflows: Subflows, problems: ManifestProblem[]): AnyRoutine | undefined {
  const flowId = (routine.type as string).slice(FLOW_TYPE.length);
  const flow = subflows.built.get(flowId);
  if (!flow) {
    if (!subflows.failed.has(flowId))
      problems.push({ path: `routines.${id}.type`, message: `unknown flow '${flowId}'; expected one of ${quoteList([...subflows.built.keys()].map((k) => `${FLOW_TYPE}${k}`))} (the flows section)` });
    return undefined;
  }
  try {
    return asRoutine(flow, { name: routine.type as string, slots: (routine.slots ?? {}) as Record<string, never>, events: (routine.events ?? {}) as Record<string, never> }) as AnyRoutine;
  } catch (error) {
    problems.push({ path: `routines.${id}`, message: (error as Error).message });
    return undefined;
  }
}

/**
 * Builds the flows of the `flows` section, each after the flows it uses, and reports a flow that contains itself
 * (directly or through others) instead of building it.
 */
function loadSubflows(doc: unknown, registry: RoutineRegistry, env: Env, source: string | undefined, problems: ManifestProblem[]): Subflows {
  const root = record(doc);
  const section = record(root.flows);
  const built = new Map<string, FlowBuilder<RoutineMap>>();
  const failed = new Set<string>();
  const uses = (fields: unknown) =>
    Object.entries(record(record(fields).routines)).flatMap(([rid, r]) => {
      const type = record(r).type;
      return typeof type === 'string' && type.startsWith(FLOW_TYPE) ? [{ rid, flow: type.slice(FLOW_TYPE.length) }] : [];
    });
  const mainId = typeof root.id === 'string' ? root.id : '';
  const itself = (path: readonly string[]) => `flow '${path[path.length - 1] ?? ''}' contains itself (${path.join(' -> ')}); a flow cannot run inside its own jobs`;
  if (Object.hasOwn(section, mainId)) problems.push({ path: `flows.${mainId}`, message: `a flow of the flows section cannot have the manifest's own id '${mainId}'` });
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: readonly string[]): void => {
    state.set(id, 'open');
    let broken = false;
    for (const { rid, flow } of uses(section[id])) {
      if (flow === mainId || state.get(flow) === 'open') {
        const from = flow === mainId ? [mainId, ...path, id, flow] : [...path.slice(path.indexOf(flow)), id, flow];
        problems.push({ path: `flows.${id}.routines.${rid}.type`, message: itself(from) });
        broken = true;
        continue;
      }
      if (Object.hasOwn(section, flow) && !state.has(flow)) visit(flow, [...path, id]);
      if (failed.has(flow)) broken = true;
    }
    state.set(id, 'done');
    if (broken) {
      failed.add(id);
      return;
    }
    try {
      built.set(id, loadOne({ id, ...record(section[id]) }, registry, env, source, { built, failed }));
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      failed.add(id);
      problems.push(...error.problems.map((p) => ({ path: p.path === '' ? `flows.${id}` : `flows.${id}.${p.path}`, message: p.message })));
    }
  };
  for (const id of Object.keys(section)) if (!state.has(id)) visit(id, []);
  for (const { rid, flow } of uses(root)) if (flow === mainId) problems.push({ path: `routines.${rid}.type`, message: itself([mainId, mainId]) });
  return { built, failed };
}

const LITERALS = ['true', 'false', 'null'];

/**
 * An `until` reading a field its event does not declare can never see it set (a typo such as `converged == True`
 * would never converge). Checked for events declared with a field list; a schema-typed event is not read here.
 */
function undeclaredField(until: string, from: string, definitions: ReadonlyMap<string, AnyRoutine>): string | undefined {
  const [id = '', event = ''] = from.split('.');
  const spec: unknown = definitions.get(id)?.eventSpecs[event];
  // A field list, or the fields an `event<T>([...])` marker names; a schema's or an unnamed marker's are not known here.
  const fields: readonly string[] = Array.isArray(spec) ? (spec as string[]) : isMarkerWithFields(spec) ? spec.fields : [];
  if (fields.length === 0) return undefined;
  for (const { name, column } of expressionFields(until)) {
    if (fields.includes(name)) continue;
    const guess = closest(name, [...fields, ...LITERALS]);
    return (
      `${JSON.stringify(until)} reads '${name}' (column ${column}), which event '${from}' does not declare; ` +
      `its fields are ${quoteList(fields)}${guess === undefined ? '' : `; did you mean '${guess}'?`}`
    );
  }
  return undefined;
}

function isMarkerWithFields(spec: unknown): spec is { readonly fields: readonly string[] } {
  const fields = (record(spec) as { kind?: unknown; fields?: unknown }).fields;
  return record(spec).kind === 'slotflow.marker' && Array.isArray(fields) && fields.length > 0;
}

/** The unbounded cycles of a manifest's graph, read from the raw document (for a manifest that cannot be built). */
function cycleProblems(doc: unknown): ManifestProblem[] {
  const root = record(doc);
  const routineIds = new Set(Object.keys(record(root.routines)));
  const connections = (Array.isArray(root.connections) ? (root.connections as unknown[]) : []).flatMap((value, index) => {
    const c = record(value);
    if (typeof c.from !== 'string' || typeof c.to !== 'string' || !REF.test(c.from) || !REF.test(c.to)) return [];
    const [fromRoutine = '', fromEvent = ''] = c.from.split('.');
    const [toRoutine = '', toSlot = ''] = c.to.split('.');
    const name = typeof c.name === 'string' ? c.name : `${c.from}->${c.to}`;
    return [{ index, name, from: { routine: fromRoutine, event: fromEvent }, to: { routine: toRoutine, slot: toSlot }, bounded: c.maxIterations !== undefined }];
  });
  return unboundedCycles(routineIds, connections).map((cycle) => ({ path: `connections[${cycle.closing.index}]`, message: cycleMessage(cycle) }));
}

function noSuch(id: string, def: AnyRoutine, kind: 'event' | 'slot', name: string): string {
  return `routine '${id}' (type '${def.name}') has no ${kind} '${name}'; expected one of ${quoteList(kind === 'event' ? def.eventNames : def.slotNames)}`;
}

/** The loose builder interface: a manifest's ids are strings the compiler has not seen. */
interface Builder {
  add(id: string, routine: AnyRoutine, options: object): Builder;
  connect(from: string, to: string, options: object): Builder;
  entry(routine: string, slot?: string): Builder;
  onError(strategy: ErrorStrategy): Builder;
  validate(): ManifestProblem[];
}

function build(manifest: ParsedManifest, checked: Checked): Builder {
  const flow = createFlow(manifest.id) as unknown as Builder;
  for (const [id, routine] of Object.entries(manifest.routines)) {
    flow.add(id, checked.definitions.get(id) as AnyRoutine, {
      ...(routine.config ? { config: checked.configs.get(id) } : {}),
      ...(routine.policy ? { policy: policyOf(routine.policy) } : {}),
      ...(routine.onError ? { onError: routine.onError as ErrorStrategy } : {}),
      ...(routine.timeoutMs === undefined ? {} : { timeoutMs: routine.timeoutMs }),
      ...(routine.maxQueue === undefined ? {} : { maxQueue: routine.maxQueue }),
      ...(routine.isolation === undefined ? {} : { isolation: routine.isolation }),
      ...(routine.resourceLimits === undefined ? {} : { resourceLimits: routine.resourceLimits }),
    });
  }
  (manifest.connections ?? []).forEach((c, i) => {
    const until = checked.until.get(i);
    flow.connect(c.from, c.to, {
      ...(c.name === undefined ? {} : { name: c.name }),
      ...(c.maxIterations === undefined ? {} : { maxIterations: c.maxIterations }),
      ...(until ? { until } : {}),
      ...(c.onExhausted === undefined ? {} : { onExhausted: c.onExhausted }),
    });
  });
  if (manifest.entry) flow.entry(manifest.entry.routine, manifest.entry.slot);
  if (manifest.defaults?.onError) flow.onError(manifest.defaults.onError as ErrorStrategy);
  return flow;
}

function policyOf(policy: NonNullable<ParsedManifest['routines'][string]['policy']>): ActivationPolicy {
  if (typeof policy === 'string') return policy === 'immediate' ? policies.immediate() : policies.allReady();
  switch (policy.type) {
    case 'immediate':
      return policies.immediate();
    case 'batch':
      return policies.batch(policy.n, policy.slots ? { slots: policy.slots } : {});
    case 'allReady':
      return policies.allReady(policy.slots ? { slots: policy.slots } : {});
    case 'interval':
      return policies.interval(policy.ms);
    case 'window':
      return policies.window(policy.ms);
  }
}

/** Problems sorted by where they are in the document: top-level fields in order, then routines and connections. */
function inDocumentOrder(problems: ManifestProblem[], doc: unknown): ManifestProblem[] {
  const fields = ['', 'id', '$schema', 'defaults', 'routines', 'connections', 'entry'];
  const routineIds = Object.keys(record(record(doc).routines));
  const rank = (path: string): [number, number] => {
    const [head = '', second] = path.split(/[.[]/);
    const top = fields.indexOf(head);
    if (head === 'routines' && second !== undefined) return [top, routineIds.indexOf(second)];
    if (head === 'connections' && second !== undefined) return [top, Number.parseInt(second, 10)];
    return [top < 0 ? fields.length : top, -1];
  };
  return problems
    .map((problem, i) => ({ problem, i, key: rank(problem.path) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.i - b.i)
    .map(({ problem }) => problem);
}

