/**
 * toManifest: a flow written back as a manifest (data), the inverse of `slotflow/manifest`'s `loadFlow`.
 *
 * Only what a definition does not already say is written: config keys that differ from the definition's
 * defaults, and a policy, error strategy, timeout or queue bound set on the instance. Config text that `loadFlow`
 * would read as an environment reference (`${...}`) is written escaped (`$${...}`), so it loads back as it was. What
 * has no data form (a
 * custom policy, an `until` function not compiled from an expression, a `retry.when`, a config value that is not
 * JSON) fails with a `ManifestError` naming each culprit by its path in the manifest.
 */
import { ManifestError, type ManifestProblem } from '../errors/index.js';
import { isBuiltInPolicy, type ActivationPolicy } from '../policies/index.js';
import type { ErrorStrategy } from '../routine/index.js';
import type { FlowBuilder } from './FlowBuilder.js';
import { expressionSourceOf } from './expressionSource.js';
import type { Connection, FlowDefinition, RoutineInstance } from './FlowDefinition.js';
import type { ConnectionManifest, ErrorStrategyManifest, FlowManifest, PolicyManifest, RoutineManifest, SubflowManifest } from './FlowManifest.js';
import { DEFAULT_MAX_QUEUE } from '../routine/defineRoutine.js';
import { subflowInfo } from '../subflow/subflowInfo.js';
import type { RoutineMap } from './types.js';

/** The child flows of a manifest's `flows` section, by id, with the flow each was written from. */
type SubflowSection = Map<string, { readonly flow: FlowDefinition; readonly manifest: SubflowManifest }>;

/** What a flow graph holds, compiled or not. */
export type FlowGraph = Pick<FlowDefinition, 'id' | 'routines' | 'connections' | 'entry' | 'onError'>;

/**
 * The manifest of a flow (a builder or a compiled flow): `loadFlow(toManifest(flow), { routines })` builds the
 * same flow. Throws `ManifestError` for parts that have no manifest form, and `FlowValidationError` for an invalid
 * builder.
 * @example
 * const yamlText = YAML.stringify(toManifest(flow));
 */
export function toManifest(flow: FlowBuilder<RoutineMap> | FlowDefinition): FlowManifest {
  return 'toManifest' in flow ? flow.toManifest() : manifestOf(flow);
}

/** The manifest of a valid flow graph. */
export function manifestOf(flow: FlowGraph): FlowManifest {
  const problems: ManifestProblem[] = [];
  const routines: Record<string, RoutineManifest> = {};
  // Subflows (`asRoutine`): `type: flow:<id>` and the child flows (theirs too) in one `flows` section.
  const flows: SubflowSection = new Map();
  for (const [id, inst] of flow.routines) routines[id] = routineManifest(id, inst, flows, problems);
  const connections = flow.connections.map((c, i) => connectionManifest(c, i, problems));

  const defaults = flow.onError === undefined ? undefined : strategyManifest(flow.onError);
  if (flow.onError !== undefined && !defaults) problems.push({ path: 'defaults.onError.retry.when', message: `flow '${flow.id}' has a retry \`when\` function, which has no manifest form` });
  if (problems.length > 0) throw new ManifestError(problems, `${flow.id} (toManifest)`);

  return {
    id: flow.id,
    ...(defaults ? { defaults: { onError: defaults } } : {}),
    routines,
    ...(connections.length > 0 ? { connections } : {}),
    ...(flow.entry ? { entry: { routine: flow.entry.routine, slot: flow.entry.slot } } : {}),
    ...(flows.size > 0 ? { flows: Object.fromEntries([...flows].map(([id, { manifest }]) => [id, manifest])) } : {}),
  };
}

/** A routine instance's manifest entry: what the instance sets beyond its definition. */
function routineManifest(id: string, inst: RoutineInstance, flows: SubflowSection, problems: ManifestProblem[]): RoutineManifest {
  const path = `routines.${id}`;
  const sub = subflowInfo(inst.routine);
  // A subflow routine's settings are written in full: `loadFlow` makes it with asRoutine's defaults.
  const def = sub ? { ...inst.routine, policy: undefined, onError: undefined, timeoutMs: undefined, maxQueue: DEFAULT_MAX_QUEUE } : inst.routine;
  const out: { -readonly [K in keyof RoutineManifest]: RoutineManifest[K] } = { type: sub ? `flow:${sub.flow.id}` : def.name };
  if (sub) {
    out.slots = sub.slots;
    if (Object.keys(sub.events).length > 0) out.events = sub.events;
    addSubflow(flows, sub.flow, path, problems);
  }
  const config = configManifest(inst.config, def.config, path, problems);
  if (config) out.config = config;
  if (inst.policy !== def.policy && !(sub && isBuiltInPolicy(inst.policy) && inst.policy.name === 'immediate')) {
    const policy = policyManifest(inst.policy);
    if (policy) out.policy = policy;
    else problems.push({ path: `${path}.policy`, message: `routine '${id}' has custom policy '${inst.policy.name}', which has no manifest form; use a built-in policy (immediate, batch, allReady, interval, window)` });
  }
  if (inst.onError !== def.onError && inst.onError !== undefined) {
    const strategy = strategyManifest(inst.onError);
    if (strategy) out.onError = strategy;
    else problems.push({ path: `${path}.onError.retry.when`, message: `routine '${id}' has a retry \`when\` function, which has no manifest form` });
  }
  if (inst.timeoutMs !== def.timeoutMs && inst.timeoutMs !== undefined) out.timeoutMs = inst.timeoutMs;
  if (inst.maxQueue !== def.maxQueue) out.maxQueue = inst.maxQueue;
  if (inst.isolation !== def.isolation) out.isolation = inst.isolation;
  if (inst.resourceLimits !== def.resourceLimits && inst.resourceLimits !== undefined) out.resourceLimits = { ...inst.resourceLimits };
  return out;
}

/** The config keys that differ from the definition's defaults, as JSON (`undefined` when none do). */
function configManifest(config: object, defaults: object, path: string, problems: ManifestProblem[]): Record<string, unknown> | undefined {
  // Entries, then fromEntries: a config key is an own data property whatever its name (`__proto__` included).
  const configEntries: [string, unknown][] = [];
  for (const [key, value] of Object.entries(config)) {
    if (Object.hasOwn(defaults, key) && Object.is((defaults as Record<string, unknown>)[key], value)) continue;
    const why = notJson(value);
    if (why === undefined) configEntries.push([key, escapeReferences(value)]);
    else problems.push({ path: `${path}.config.${key}`, message: `${why}; only JSON values can be written to a manifest` });
  }
  return configEntries.length > 0 ? Object.fromEntries(configEntries) : undefined;
}

/** A connection's manifest entry; its name only when it is not the default one. */
function connectionManifest(c: Connection, i: number, problems: ManifestProblem[]): ConnectionManifest {
  const from = `${c.from.routine}.${c.from.event}`;
  const to = `${c.to.routine}.${c.to.slot}`;
  const out: { -readonly [K in keyof ConnectionManifest]: ConnectionManifest[K] } = { from, to };
  if (c.name !== `${from}->${to}`) out.name = c.name;
  if (c.bound) {
    out.maxIterations = c.bound.maxIterations;
    if (c.bound.until) {
      const source = expressionSourceOf(c.bound.until);
      if (source !== undefined) out.until = source;
      else
        problems.push({
          path: `connections[${i}].until`,
          message: `edge '${c.name}' has an \`until\` function, which has no manifest form; write it as an expression (compileExpression('converged == true') from slotflow/manifest)`,
        });
    }
    if (c.bound.onExhausted === 'fail') out.onExhausted = 'fail';
  }
  return out;
}

/** Adds a child flow (and the flows it uses) to a manifest's `flows` section; one id must be one flow. */
function addSubflow(flows: SubflowSection, child: FlowDefinition, path: string, problems: ManifestProblem[]): void {
  const known = flows.get(child.id);
  if (known) {
    if (known.flow !== child) problems.push({ path, message: `two different subflows have the id '${child.id}'; a manifest's flows section holds one flow per id` });
    return;
  }
  let manifest: FlowManifest;
  try {
    manifest = manifestOf(child);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    problems.push(...error.problems.map((p) => ({ path: `flows.${child.id}.${p.path}`, message: p.message })));
    return;
  }
  const { id: _id, flows: _nested, ...rest } = manifest;
  flows.set(child.id, { flow: child, manifest: rest });
  for (const inst of child.routines.values()) {
    const sub = subflowInfo(inst.routine);
    if (sub) addSubflow(flows, sub.flow, `flows.${child.id}.routines.${inst.id}`, problems);
  }
}

function policyManifest(policy: ActivationPolicy): PolicyManifest | undefined {
  if (!isBuiltInPolicy(policy)) return undefined;
  const params = Object.entries(policy.params);
  if (params.length === 0 && (policy.name === 'immediate' || policy.name === 'allReady')) return policy.name;
  return { type: policy.name, ...policy.params } as PolicyManifest;
}

function strategyManifest(strategy: ErrorStrategy): ErrorStrategyManifest | undefined {
  if (typeof strategy === 'string') return strategy;
  if (strategy.retry.when !== undefined) return undefined;
  const { max, backoffMs, factor, maxBackoffMs } = strategy.retry;
  return {
    retry: {
      max,
      ...(backoffMs === undefined ? {} : { backoffMs }),
      ...(factor === undefined ? {} : { factor }),
      ...(maxBackoffMs === undefined ? {} : { maxBackoffMs }),
    },
    ...(strategy.then === undefined ? {} : { then: strategy.then }),
  };
}

/**
 * What `slotflow/manifest` reads as an environment reference in config text, `${...}`, or as its escape, `$${...}`
 * (the pattern of src/manifest/resolveConfig.ts: change both together). Writing one more `$` before each makes
 * every one an escape, which reads back as the text it was.
 */
const REFERENCE = /\$(\$?)\{([^}]*)\}/g;

/** JSON data with every reference-like `${...}` in its strings escaped. */
function escapeReferences(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(REFERENCE, (match) => `$${match}`);
  if (Array.isArray(value)) return value.map(escapeReferences);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapeReferences(item)]));
  return value;
}

/** Why `value` is not JSON data, or `undefined` when it is. */
function notJson(value: unknown, seen = new Set<unknown>()): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${String(value)} is not a JSON number`;
  if (typeof value !== 'object') return `a ${typeof value} is not JSON`;
  if (seen.has(value)) return 'a circular structure is not JSON';
  seen.add(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return `${typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a prototype'} is not plain JSON data`;
  }
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const why = notJson(item, seen);
    if (why !== undefined) return why;
  }
  seen.delete(value);
  return undefined;
}
