/**
 * The built-in activation policies: immediate, batch, allReady, interval, window, custom.
 */
import { dict } from '../util/dict.js';
import { InvalidOptionError } from '../errors/index.js';
import { assertDuration, assertPositiveInteger } from '../util/assertOption.js';
import { anyQueued, contextFree, takeAll, type ActivationPolicy, type PolicyContext, type PolicyMessage, type QueuesView } from './ActivationPolicy.js';

const IMMEDIATE: PolicyMessage = Object.freeze({ reason: 'immediate' });

/**
 * The brand of the policies built by the factories below (not `custom`), whose `name` and `params` describe them
 * fully: a registry symbol, so a policy made by another copy of slotflow (a CommonJS project loading the CommonJS
 * build next to our ES module build, a bundled CLI) is recognised too, where object identity would call it custom.
 * Not enumerable: `{ ...policies.immediate(), ready }` is a different policy and does not inherit the brand.
 */
const BRAND = Symbol.for('slotflow.policy');
const BUILT_IN_NAMES: ReadonlySet<string> = new Set(['immediate', 'batch', 'allReady', 'interval', 'window']);

function builtIn(policy: ActivationPolicy): ActivationPolicy {
  Object.defineProperty(policy, BRAND, { value: policy.name, enumerable: false, writable: false, configurable: false });
  return policy;
}

/** True for a policy made by `immediate`, `batch`, `allReady`, `interval` or `window` (of any copy of slotflow), which manifests can name. */
export function isBuiltInPolicy(policy: ActivationPolicy): boolean {
  const brand = (policy as unknown as Record<symbol, unknown>)[BRAND];
  return brand === policy.name && BUILT_IN_NAMES.has(brand);
}

/** Fires when any slot has data; consumes everything queued. The default. */
function immediate(): ActivationPolicy {
  return builtIn({
    name: 'immediate',
    params: {},
    slots: undefined,
    ready: anyQueued,
    take: takeAll,
    message: contextFree(() => IMMEDIATE),
  });
}

/** Fires when every named slot (default: all) holds at least `n` items; consumes exactly `n` from each. */
function batch(n: number, options: { slots?: readonly string[] } = {}): ActivationPolicy {
  assertPositiveInteger('policies.batch(n)', n);
  const slots = options.slots;
  const message: PolicyMessage = Object.freeze({ reason: 'batch', size: n });
  return builtIn({
    name: 'batch',
    params: slots ? { n, slots } : { n },
    slots,
    ready: contextFree((queues: QueuesView) => everySlot(queues, slots, n)),
    take: contextFree((queues: QueuesView) => countEach(queues, slots, n)),
    message: contextFree(() => message),
  });
}

/** A join: fires when every named slot (default: all) holds an item; consumes one from each. */
function allReady(options: { slots?: readonly string[] } = {}): ActivationPolicy {
  const slots = options.slots;
  const message: PolicyMessage = Object.freeze({ reason: 'allReady' });
  return builtIn({
    name: 'allReady',
    params: slots ? { slots } : {},
    slots,
    ready: contextFree((queues: QueuesView) => everySlot(queues, slots, 1)),
    take: contextFree((queues: QueuesView) => countEach(queues, slots, 1)),
    message: contextFree(() => message),
  });
}

/**
 * Fires when data is queued and at least `ms` passed since the last activation; a timer fires it when the interval
 * ends (data waits meanwhile). Consumes everything queued.
 */
function interval(ms: number): ActivationPolicy {
  assertDuration('policies.interval(ms)', ms);
  const due = (ctx: PolicyContext) => (ctx.lastActivationAt === undefined ? ctx.now : ctx.lastActivationAt + ms);
  return builtIn({
    name: 'interval',
    params: { ms },
    slots: undefined,
    ready: (queues, ctx) => anyQueued(queues) && ctx.now >= due(ctx),
    take: takeAll,
    message: (counts, ctx) => ({ reason: 'interval', intervalMs: ms, sinceLastMs: ctx.lastActivationAt === undefined ? undefined : ctx.now - ctx.lastActivationAt, counts }),
    dueAt: (queues, ctx) => (anyQueued(queues) ? due(ctx) : undefined),
  });
}

/** Fires `ms` after the first item arrived in empty queues; consumes everything queued (a time window). */
function window(ms: number): ActivationPolicy {
  assertDuration('policies.window(ms)', ms);
  return builtIn({
    name: 'window',
    params: { ms },
    slots: undefined,
    ready: (queues, ctx) => ctx.firstArrivalAt !== undefined && anyQueued(queues) && ctx.now >= ctx.firstArrivalAt + ms,
    take: takeAll,
    message: (counts, ctx) => ({ reason: 'window', windowMs: ms, openedAt: ctx.firstArrivalAt, counts }),
    dueAt: (queues, ctx) => (ctx.firstArrivalAt !== undefined && anyQueued(queues) ? ctx.firstArrivalAt + ms : undefined),
  });
}

/** Options of `policies.custom`. */
export interface CustomPolicyOptions {
  /** The policy's name, also the trigger message's `reason`. */
  readonly name: string;
  /** The guard. Must not mutate the queues. */
  readonly ready: (queues: QueuesView, ctx: PolicyContext) => boolean;
  /**
   * What to consume: per slot, either a count taken from the head of the queue or the items themselves (which
   * must be a prefix of the queue: queues are FIFO). Default: everything.
   */
  readonly take?: (queues: QueuesView, ctx: PolicyContext) => Readonly<Record<string, number | readonly unknown[]>>;
}

/** A policy of your own: a guard over the queues, and optionally what to take. */
function custom(options: CustomPolicyOptions): ActivationPolicy {
  if (typeof options.name !== 'string' || options.name === '') throw new InvalidOptionError('policies.custom({ name })', 'a non-empty string', options.name);
  if (typeof options.ready !== 'function') throw new InvalidOptionError('policies.custom({ ready })', 'a function', options.ready);
  const userTake = options.take;
  const message: PolicyMessage = Object.freeze({ reason: options.name });
  return {
    name: options.name,
    params: {},
    slots: undefined,
    ready: options.ready,
    take: userTake
      ? (queues, ctx) => {
          const out = dict<number>();
          const wanted = userTake(queues, ctx);
          for (const key in wanted) {
            const value = wanted[key];
            const queued = queues[key]?.length ?? 0;
            const count = typeof value === 'number' ? value : (value?.length ?? 0);
            if (!Number.isInteger(count) || count < 0 || count > queued)
              throw new InvalidOptionError(`policy '${options.name}' take()['${key}']`, `a count from 0 to ${queued} (the queued items)`, value);
            out[key] = count;
          }
          return out;
        }
      : takeAll,
    message: contextFree(() => message),
  };
}

function everySlot(queues: QueuesView, slots: readonly string[] | undefined, n: number): boolean {
  if (slots) {
    for (const slot of slots) if ((queues[slot]?.length ?? 0) < n) return false;
    return true;
  }
  for (const key in queues) if ((queues[key]?.length ?? 0) < n) return false;
  return true;
}

function countEach(queues: QueuesView, slots: readonly string[] | undefined, n: number): Record<string, number> {
  const counts = dict<number>();
  for (const slot of slots ?? Object.keys(queues)) counts[slot] = n;
  return counts;
}

/** The built-in activation policies. @example policies.batch(10, { slots: ['input'] }) */
export const policies = { immediate, batch, allReady, interval, window, custom } as const;
