/**
 * Fake hosts for the pure machine tests: they record every call and let the test decide the guards.
 */
import type { Inflight, RoutineHost, RoutineMachineContext, SupervisorHost, SupervisorStatus } from 'slotflow/machines';

export type RoutineCall =
  | { readonly type: 'ready'; readonly result: boolean }
  | { readonly type: 'consume'; readonly inflight: Inflight }
  | { readonly type: 'startActivation'; readonly inflight: Inflight | undefined; readonly attempt: number }
  | { readonly type: 'armRetry'; readonly attempt: number }
  | { readonly type: 'busy'; readonly delta: 1 | -1 };

export interface FakeRoutineHost extends RoutineHost {
  readonly calls: RoutineCall[];
  /** Sum of busy(+1)/busy(-1). */
  readonly busyCount: number;
  /** Replaces the guard (default: any slot has data). */
  setReady(ready: (context: RoutineMachineContext) => boolean): void;
  /** Replaces the consume step's counts (default: everything). */
  setTake(take: (queues: Readonly<Record<string, readonly unknown[]>>) => Record<string, number>): void;
  setNow(now: number): void;
  callsOf<T extends RoutineCall['type']>(type: T): Extract<RoutineCall, { type: T }>[];
}

const anyQueued = (context: RoutineMachineContext) => Object.values(context.queues).some((q) => q.length > 0);
const everything = (queues: Readonly<Record<string, readonly unknown[]>>) => Object.fromEntries(Object.entries(queues).map(([slot, q]) => [slot, q.length]));

export function fakeRoutineHost(): FakeRoutineHost {
  const calls: RoutineCall[] = [];
  let ready = anyQueued;
  let take = everything;
  let now = 0;
  let busy = 0;
  return {
    calls,
    get busyCount() {
      return busy;
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
    ready(context) {
      const result = ready(context);
      calls.push({ type: 'ready', result });
      return result;
    },
    consume(context) {
      const counts = take(context.queues);
      const consumed: Record<string, unknown[]> = {};
      for (const slot of Object.keys(context.queues)) consumed[slot] = (context.queues[slot] as unknown[]).splice(0, counts[slot] ?? 0);
      const inflight: Inflight = { consumed, counts, message: { reason: 'fake' } };
      calls.push({ type: 'consume', inflight });
      return inflight;
    },
    startActivation(context) {
      calls.push({ type: 'startActivation', inflight: context.inflight, attempt: context.attempt });
    },
    armRetry(context) {
      calls.push({ type: 'armRetry', attempt: context.attempt });
    },
    busy(delta) {
      busy += delta;
      calls.push({ type: 'busy', delta });
    },
    now: () => now,
  };
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
  /** Called on `deliver`/`route` (e.g. to make the job busy, as a real delivery would). */
  onDeliver: (() => void) | undefined;
  callsOf<T extends SupervisorCall['type']>(type: T): Extract<SupervisorCall, { type: T }>[];
}

export function fakeSupervisorHost(idle = false): FakeSupervisorHost {
  const calls: SupervisorCall[] = [];
  const host: FakeSupervisorHost = {
    calls,
    idle,
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
    finished(status, error) {
      calls.push({ type: 'finished', status, error });
    },
    status(status) {
      calls.push({ type: 'status', status });
    },
  };
  return host;
}
