/**
 * Per-job overrides: `exec(flow, { overrides: { [routineId]: { config?, policy?, onError?, timeoutMs? } } })`.
 *
 * For that job only, an override's `config` is merged over the instance's config (the flow's per-instance config
 * over the routine's defaults), and its `policy`, `onError` and `timeoutMs` replace the instance's. The flow itself is
 * untouched; other jobs of it are not affected.
 *
 * Snapshots carry the overrides. `config`, `timeoutMs`, a built-in policy (as its name and parameters) and an error
 * strategy without a `retry.when` function are data and persist. A custom policy or a `retry.when` cannot be written
 * down: the snapshot lists them under `missing`, and restoring it needs them given again
 * (`exec(flow, { from, overrides: { id: { policy } } })`), else it throws `SnapshotError`: they are never dropped
 * silently.
 */
import { InvalidOptionError, SnapshotError } from '../../errors/index.js';
import type { FlowDefinition, RoutineInstance } from '../../flow/index.js';
import { isBuiltInPolicy, policies, type ActivationPolicy } from '../../policies/index.js';
import { assertErrorStrategy } from '../../routine/index.js';
import { assertKnownKeys } from '../../util/assertKnownKeys.js';
import { assertDuration } from '../../util/assertOption.js';
import { deepFreeze } from '../../util/deepFreeze.js';
import type { Overrides, RoutineOverride } from '../../types/Overrides.js';
import type { OverrideSnapshot } from '../../persistence/JobSnapshot.js';

const KEYS = ['config', 'policy', 'onError', 'timeoutMs'] as const;

/** Checks `exec({ overrides })` against the flow; returns it (or `undefined` when empty). */
export function assertOverrides(flow: FlowDefinition, overrides: unknown, where = 'exec({ overrides })'): Overrides | undefined {
  if (overrides === undefined) return undefined;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw new InvalidOptionError(where, 'a record of routine id -> { config?, policy?, onError?, timeoutMs? }', overrides);
  const ids = [...flow.routines.keys()];
  for (const [id, override] of Object.entries(overrides)) {
    const path = `${where}.${id}`;
    if (!flow.routines.has(id)) throw new InvalidOptionError(path, `a routine id of flow '${flow.id}' (${ids.map((k) => `'${k}'`).join(', ')})`, id);
    if (typeof override !== 'object' || override === null || Array.isArray(override)) throw new InvalidOptionError(path, '{ config?, policy?, onError?, timeoutMs? }', override);
    assertKnownKeys(path, override, KEYS);
    const { config, policy, onError, timeoutMs } = override as Record<string, unknown>;
    if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) throw new InvalidOptionError(`${path}.config`, 'a plain object (merged over the instance config)', config);
    if (policy !== undefined && (typeof policy !== 'object' || policy === null || typeof (policy as ActivationPolicy).ready !== 'function'))
      throw new InvalidOptionError(`${path}.policy`, 'a policy from policies.*', policy);
    if (onError !== undefined) assertErrorStrategy(`${path}.onError`, onError);
    if (timeoutMs !== undefined) assertDuration(`${path}.timeoutMs`, timeoutMs);
  }
  return Object.keys(overrides).length ? (overrides as Overrides) : undefined;
}

/** The instance the job's cell runs: `inst` itself when not overridden. */
export function overriddenInstance(inst: RoutineInstance, override: RoutineOverride | undefined): RoutineInstance {
  if (!override) return inst;
  const out: RoutineInstance = {
    ...inst,
    ...(override.config ? { config: deepFreeze({ ...inst.config, ...override.config }) } : {}),
    ...(override.policy ? { policy: override.policy } : {}),
    ...('onError' in override ? { onError: override.onError } : {}),
    ...('timeoutMs' in override ? { timeoutMs: override.timeoutMs } : {}),
  };
  base.set(out, inst);
  return out;
}

const base = new WeakMap<RoutineInstance, RoutineInstance>();

/** The flow's own instance behind an overridden one: idle actors are pooled per flow instance. */
export function baseInstance(inst: RoutineInstance): RoutineInstance {
  return base.get(inst) ?? inst;
}

/** The overrides as snapshot data. */
export function overridesSnapshot(overrides: Overrides): Record<string, OverrideSnapshot> {
  const out: Record<string, OverrideSnapshot> = {};
  for (const [id, override] of Object.entries(overrides)) {
    const missing: ('policy' | 'onError')[] = [];
    const entry: { -readonly [K in keyof OverrideSnapshot]: OverrideSnapshot[K] } = {};
    if (override.config) entry.config = override.config;
    if (override.timeoutMs !== undefined) entry.timeoutMs = override.timeoutMs;
    if (override.policy) {
      if (isBuiltInPolicy(override.policy)) entry.policy = { name: override.policy.name, params: override.policy.params };
      else missing.push('policy');
    }
    if (override.onError !== undefined) {
      if (typeof override.onError === 'object' && override.onError.retry.when) missing.push('onError');
      else entry.onError = override.onError;
    }
    if (missing.length) entry.missing = missing;
    out[id] = entry;
  }
  return out;
}

/**
 * The overrides of a restored job: the snapshot's, with those given again at restore (`exec({ from, overrides })`)
 * laid over them per routine and key. Throws `SnapshotError` when something the snapshot could not carry is not
 * given again.
 */
export function restoreOverrides(flow: FlowDefinition, jobId: string, saved: Readonly<Record<string, OverrideSnapshot>> | undefined, given: Overrides | undefined): Overrides | undefined {
  if (!saved) return given;
  const out: Record<string, RoutineOverride> = {};
  for (const [id, entry] of Object.entries(saved)) {
    const again = given?.[id];
    for (const key of entry.missing ?? [])
      if (again?.[key] === undefined)
        throw new SnapshotError(
          'flow',
          `routine '${id}' ran with a ${key === 'policy' ? 'custom policy' : "retry strategy with a 'when' function"} override, which a snapshot cannot carry; give it again: exec(flow, { from, overrides: { ${id}: { ${key} } } })`,
          jobId,
        );
    const { missing: _missing, policy, ...data } = entry;
    let restored: ActivationPolicy | undefined;
    try {
      restored = policy ? builtInPolicy(policy) : undefined;
    } catch (error) {
      throw new SnapshotError('malformed', `overrides.${id}.policy cannot be rebuilt: ${(error as Error).message}`, jobId, { cause: error });
    }
    out[id] = { ...data, ...(restored ? { policy: restored } : {}), ...again };
  }
  for (const [id, again] of Object.entries(given ?? {})) out[id] ??= again;
  try {
    return assertOverrides(flow, out, 'snapshot overrides');
  } catch (error) {
    throw new SnapshotError('malformed', (error as Error).message, jobId, { cause: error });
  }
}

/** A built-in policy from its name and parameters (what `isBuiltInPolicy` policies carry). */
function builtInPolicy(descriptor: { readonly name: string; readonly params: Readonly<Record<string, unknown>> }): ActivationPolicy {
  const p = descriptor.params as { n?: number; ms?: number; slots?: readonly string[] };
  const slots = p.slots ? { slots: p.slots } : {};
  switch (descriptor.name) {
    case 'immediate':
      return policies.immediate();
    case 'batch':
      return policies.batch(p.n as number, slots);
    case 'allReady':
      return policies.allReady(slots);
    case 'interval':
      return policies.interval(p.ms as number);
    case 'window':
      return policies.window(p.ms as number);
    default:
      throw new InvalidOptionError('policy', "a built-in policy ('immediate', 'batch', 'allReady', 'interval', 'window')", descriptor.name);
  }
}
