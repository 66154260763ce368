/**
 * runtimeSettings: checks `createRuntime(options)` once, up front, and returns every setting resolved to its
 * default, so the parts of the runtime never see an unchecked option.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { systemClock, type Clock } from '../../clock/Clock.js';
import { InvalidOptionError, type CheckpointError } from '../../errors/index.js';
import type { ValidationMode } from '../../types/ValidationMode.js';
import type { CheckpointStore } from '../../persistence/CheckpointStore.js';
import type { UnhandledErrorHandler } from '../../runtime/EventBus.js';
import type { ResourcesOption } from '../../runtime/Resources.js';
import type { RuntimeOptions } from '../../runtime/RuntimeOptions.js';
import type { ThreadsOptions } from '../../threads/index.js';
import { assertKnownKeys } from '../../util/assertKnownKeys.js';
import { assertLimit, assertNonNegativeInteger, assertPositiveInteger, assertPositiveNumber } from '../../util/assertOption.js';
import { DEFAULT_MAX_SUBFLOW_DEPTH } from '../../subflow/subflowDepth.js';

/** The default bound of one store call (`storeTimeoutMs`). */
export const DEFAULT_STORE_TIMEOUT_MS = 30_000;

const RUNTIME_KEYS = [
  'concurrency',
  'maxJobs',
  'inspect',
  'validation',
  'clock',
  'retain',
  'historyLimit',
  'reuseActors',
  'metrics',
  'onUnhandledError',
  'maxBufferedEvents',
  'store',
  'retainFinished',
  'migrateSnapshot',
  'onCheckpointError',
  'storeTimeoutMs',
  'threads',
  'resources',
  'maxSubflowDepth',
] as const satisfies readonly (keyof RuntimeOptions)[];

/** Sizes and modes of the runtime, checked and defaulted. */
export interface RuntimeLimits {
  readonly concurrency: number;
  readonly maxJobs: number;
  readonly retain: number;
  readonly historyLimit: number;
  readonly reuseActors: number;
  readonly validation: ValidationMode;
  readonly clock: Clock;
  readonly metrics: boolean;
  readonly maxSubflowDepth: number;
}

/** Persistence settings, checked and defaulted; `store` undefined means no checkpointing. */
export interface StoreSettings {
  readonly store: CheckpointStore | undefined;
  readonly retainFinished: boolean;
  readonly storeTimeoutMs: number;
  readonly onCheckpointError: ((error: CheckpointError) => void) | undefined;
  readonly migrateSnapshot: ((snapshot: unknown) => unknown) | undefined;
}

/** Everything `createRuntime(options)` resolved to. */
export interface RuntimeSettings extends RuntimeLimits, StoreSettings {
  readonly inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
  readonly onUnhandledError: UnhandledErrorHandler | undefined;
  readonly maxBufferedEvents: number | undefined;
  readonly threads: ThreadsOptions | undefined;
  readonly resources: ResourcesOption | undefined;
}

/** Checks `createRuntime(options)` (throwing `InvalidOptionError` naming the option) and fills in the defaults. */
export function resolveRuntimeSettings(options: RuntimeOptions): RuntimeSettings {
  assertKnownKeys('createRuntime(options)', options, RUNTIME_KEYS);
  const limits = resolveLimits(options);
  const storeSettings = resolveStoreSettings(options);
  const { inspect } = options;
  if (inspect !== undefined && typeof inspect !== 'function' && (typeof inspect !== 'object' || (inspect as unknown) === null))
    throw new InvalidOptionError('inspect', 'a function or an XState inspection observer', inspect);
  // onUnhandledError, maxBufferedEvents, threads and resources are checked by the EventBus, ThreadPools and Resources.
  return {
    ...limits,
    ...storeSettings,
    inspect,
    onUnhandledError: options.onUnhandledError,
    maxBufferedEvents: options.maxBufferedEvents,
    threads: options.threads,
    resources: options.resources,
  };
}

function resolveLimits(options: RuntimeOptions): RuntimeLimits {
  const concurrency = options.concurrency ?? 10;
  assertPositiveInteger('concurrency', concurrency);
  const maxJobs = options.maxJobs ?? Number.POSITIVE_INFINITY;
  assertLimit('maxJobs', maxJobs);
  const retain = options.retain ?? 1000;
  assertNonNegativeInteger('retain', retain);
  const historyLimit = options.historyLimit ?? 1000;
  assertNonNegativeInteger('historyLimit', historyLimit);
  const reuseActors = options.reuseActors ?? 1024;
  assertNonNegativeInteger('reuseActors', reuseActors);
  const validation = options.validation ?? 'strict';
  if (!['strict', 'warn', 'off'].includes(validation)) throw new InvalidOptionError('validation', "'strict', 'warn' or 'off'", validation);
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function')
    throw new InvalidOptionError('clock', 'an object with now(), setTimeout() and clearTimeout()', clock);
  const metrics = options.metrics ?? true;
  if (typeof metrics !== 'boolean') throw new InvalidOptionError('metrics', 'a boolean', metrics);
  const maxSubflowDepth = options.maxSubflowDepth ?? DEFAULT_MAX_SUBFLOW_DEPTH;
  assertPositiveInteger('maxSubflowDepth', maxSubflowDepth);
  return { concurrency, maxJobs, retain, historyLimit, reuseActors, validation, clock, metrics, maxSubflowDepth };
}

function resolveStoreSettings(options: RuntimeOptions): StoreSettings {
  const { store, onCheckpointError, migrateSnapshot } = options;
  if (store !== undefined && (typeof store !== 'object' || typeof store.save !== 'function' || typeof store.load !== 'function' || typeof store.listUnfinished !== 'function' || typeof store.delete !== 'function'))
    throw new InvalidOptionError('store', 'a CheckpointStore (save, load, listUnfinished, delete), e.g. createFileStore(dir)', store);
  const retainFinished = options.retainFinished ?? false;
  if (typeof retainFinished !== 'boolean') throw new InvalidOptionError('retainFinished', 'a boolean', retainFinished);
  if (onCheckpointError !== undefined && typeof onCheckpointError !== 'function')
    throw new InvalidOptionError('onCheckpointError', 'a function (error: CheckpointError) => void', onCheckpointError);
  if (migrateSnapshot !== undefined && typeof migrateSnapshot !== 'function')
    throw new InvalidOptionError('migrateSnapshot', 'a function (snapshot: unknown) => unknown', migrateSnapshot);
  const storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  if (storeTimeoutMs !== Number.POSITIVE_INFINITY) assertPositiveNumber('storeTimeoutMs', storeTimeoutMs);
  return { store, retainFinished, storeTimeoutMs, onCheckpointError, migrateSnapshot };
}
