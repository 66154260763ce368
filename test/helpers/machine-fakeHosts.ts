/**
 * Fake hosts for the pure machine tests: they record every call and let the test decide the guards.
 */
import type { Inflight, RoutineHost, SupervisorHost, SupervisorStatus } from 'slotflow/machines';

export type RoutineCall =
  | { readonly type: 'ready'; readonly result: boolean }
  | { readonly type: 'consume'; readonly inflight: Inflight }
  | { readonly type: 'startActivation'; readonly inflight: Inflight | undefined; readonly attempt: number }
  | { readonly type: 'armRetry'; readonly attempt: number }
  | { readonly type: 'busy'; readonly delta: 1 | -1 };

/** A routine host that keeps the routine's data as the runtime's does, records every call, and lets the test decide the guard. */
export interface FakeRoutineHost extends RoutineHost {
  readonly calls: RoutineCall[];
  readonly queues: Record<string, unknown[]>;
  readonly inflight: Inflight | undefined;
  readonly attempt: number;
  readonly lastActivationAt: number | undefined;
  readonly firstArrivalAt: number | undefined;
  /** Sum of busy(+1)/busy(-1). */
  readonly busyCount: number;
  /** Queues an arrival, as the runtime does before it sends `slot.<name>`. */
  enqueue(slot: string, payload: unknown): void;
  /** Replaces the guard (default: any slot has data). */
  setReady(ready: (host: FakeRoutineHost) => boolean): void;
  /** Replaces the consume step's counts (default: everything). */
  setTake(take: (queues: Readonly<Record<string, readonly unknown[]>>) => Record<string, number>): void;
  setNow(now: number): void;
  callsOf<T extends RoutineCall['type']>(type: T): Extract<RoutineCall, { type: T }>[];
}

const anyQueued = (host: FakeRoutineHost) => Object.values(host.queues).some((q) => q.length > 0);
const everything = (queues: Readonly<Record<string, readonly unknown[]>>) => Object.fromEntries(Object.entries(queues).map(([slot, q]) => [slot, q.length]));

export function fakeRoutineHost(slots: readonly string[] = ['a', 'b']): FakeRoutineHost {
  const calls: RoutineCall[] = [];
  let ready = anyQueued;
  let take = everything;
  let now = 0;
  let busy = 0;
  const queues: Record<string, unknown[]> = Object.fromEntries(slots.map((slot) => [slot, [] as unknown[]]));
  const consume = () => {
    const counts = take(queues);
    const consumed: Record<string, unknown[]> = {};
    for (const slot of Object.keys(queues)) consumed[slot] = (queues[slot] as unknown[]).splice(0, counts[slot] ?? 0);
    const inflight: Inflight = { consumed, counts, message: { reason: 'fake' } };
    calls.push({ type: 'consume', inflight });
    host.inflight = inflight;
    host.attempt = 0;
    host.retryDue = false;
    host.lastActivationAt = now;
    host.firstArrivalAt = Object.values(queues).some((q) => q.length > 0) ? now : undefined;
  };
  const setBusy = (delta: 1 | -1) => {
    busy += delta;
    calls.push({ type: 'busy', delta });
  };
  const host: FakeRoutineHost & { inflight: Inflight | undefined; attempt: number; paused: boolean; retryDue: boolean; lastActivationAt: number | undefined; firstArrivalAt: number | undefined } = {
    calls,
    queues,
    inflight: undefined,
    attempt: 0,
    paused: false,
    retryDue: false,
    lastActivationAt: undefined,
    firstArrivalAt: undefined,
    get busyCount() {
      return busy;
    },
    enqueue(slot, payload) {
      const queue = queues[slot];
      if (!queue) return;
      queue.push(payload);
      host.firstArrivalAt ??= now;
    },
    setReady(fn) {
      ready = fn;
    },
    setTake(fn) {
      take = fn;
    },
    setNow(value) {
      now = value;
    },
    callsOf<T extends RoutineCall['type']>(type: T) {
      return calls.filter((c): c is Extract<RoutineCall, { type: T }> => c.type === type);
    },
    ready(resuming) {
      if (host.paused && !resuming) return false;
      const result = ready(host);
      calls.push({ type: 'ready', result });
      return result;
    },
    activate() {
      consume();
      setBusy(1);
    },
    consume,
    startActivation() {
      calls.push({ type: 'startActivation', inflight: host.inflight, attempt: host.attempt });
    },
    armRetry() {
      calls.push({ type: 'armRetry', attempt: host.attempt });
    },
    nextAttempt() {
      host.attempt++;
      host.retryDue = false;
    },
    finish() {
      host.inflight = undefined;
      host.attempt = 0;
      host.retryDue = false;
      setBusy(-1);
    },
    markRetryDue() {
      host.retryDue = true;
    },
    setPaused(paused) {
      host.paused = paused;
    },
    reset() {
      for (const queue of Object.values(queues)) queue.length = 0;
      Object.assign(host, { inflight: undefined, attempt: 0, paused: false, retryDue: false, lastActivationAt: undefined, firstArrivalAt: undefined });
    },
    restore(event) {
      for (const slot of Object.keys(queues)) for (const item of event.queues[slot] ?? []) queues[slot]!.push(item);
      Object.assign(host, { inflight: event.inflight, attempt: event.attempt, paused: event.paused, retryDue: false, lastActivationAt: event.lastActivationAt, firstArrivalAt: event.firstArrivalAt });
      if (event.target === 'running' || event.target === 'backoff') setBusy(1);
    },
  };
  return host;
}

export type SupervisorCall =
  | { readonly type: 'route'; readonly routineId: string; readonly event: string; readonly payload: unknown }
  | { readonly type: 'deliver'; readonly routineId: string; readonly slot: string; readonly payload: unknown }
  | { readonly type: 'pauseRoutines'; readonly paused: boolean }
  | { readonly type: 'finished'; readonly status: 'completed' | 'failed' | 'cancelled'; readonly error: unknown }
  | { readonly type: 'status'; readonly status: SupervisorStatus };

export interface FakeSupervisorHost extends SupervisorHost {
  readonly calls: SupervisorCall[];
  /** What `quiescent()` answers. */
  idle: boolean;
  keepAlive: boolean;
  completing: boolean;
  /** What `recordError` received (reported with `finished`). */
  error: unknown;
  /** Called on `deliver`/`route` (e.g. to make the job busy, as a real delivery would). */
  onDeliver: (() => void) | undefined;
  callsOf<T extends SupervisorCall['type']>(type: T): Extract<SupervisorCall, { type: T }>[];
}

export function fakeSupervisorHost(idle = false): FakeSupervisorHost {
  const calls: SupervisorCall[] = [];
  const host: FakeSupervisorHost = {
    calls,
    idle,
    keepAlive: false,
    completing: false,
    error: undefined,
    onDeliver: undefined,
    callsOf<T extends SupervisorCall['type']>(type: T) {
      return calls.filter((c): c is Extract<SupervisorCall, { type: T }> => c.type === type);
    },
    quiescent: () => host.idle,
    route(routineId, event, payload) {
      calls.push({ type: 'route', routineId, event, payload });
      host.onDeliver?.();
    },
    deliver(routineId, slot, payload) {
      calls.push({ type: 'deliver', routineId, slot, payload });
      host.onDeliver?.();
    },
    pauseRoutines(paused) {
      calls.push({ type: 'pauseRoutines', paused });
    },
    markCompleting() {
      host.completing = true;
    },
    recordError(error) {
      host.error = error;
    },
    finished(status) {
      calls.push({ type: 'finished', status, error: host.error });
    },
    status(status) {
      calls.push({ type: 'status', status });
    },
  };
  return host;
}
