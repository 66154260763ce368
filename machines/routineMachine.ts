/**
 * The routine machine: one actor per routine instance per job.
 *
 * Slot arrivals are its input events (`slot.<name>`) and fill FIFO queues. The activation policy is the guard on
 * the eventless transition from `idle` into `active` (`ready`), and the policy's consume step is that
 * transition's action (`consume`). The machine runs at most one activation at a time: while `active`, arrivals
 * only queue, and the guard is evaluated again when the activation ends. User code never runs in here: entering
 * `active.running` asks the host to schedule the activation (`startActivation`); the host reports back with
 * `activation.done` / `activation.failed`.
 *
 * Pure definition: the runtime supplies the guard and action implementations with `.provide()`.
 */
import { assign, setup } from 'xstate';

/** Where a routine actor asks for what only the runtime knows (its policy, clock and scheduler). */
export interface RoutineHost {
  /**
   * The activation policy's guard over the queues (called only while not paused). `arrivalAt` is set when the
   * guard is asked about an arrival already pushed onto its queue: a window that was not open opens at that time.
   * `thenIdle`: if this answer is no, the routine goes (or stays) `idle` in this same macrostep and its eventless
   * check asks again about the same queues (an arrival that does not fire, an activation that ends with nothing
   * waiting): the host may answer that next call from this one.
   */
  ready(context: RoutineMachineContext, arrivalAt?: number, thenIdle?: boolean): boolean;
  /**
   * The policy's consume step: removes what it takes from the queues and returns it. `arrivalAt` as for `ready`
   * (the arrival that fired the routine opened the window then).
   */
  consume(context: RoutineMachineContext, arrivalAt?: number): Inflight;
  /** Entering `active.running`: schedule the activation (never run it here). */
  startActivation(context: RoutineMachineContext): void;
  /** Entering `active.backoff`: arm the retry timer. */
  armRetry(context: RoutineMachineContext): void;
  /** Entering or leaving `active` (the job is busy while any routine is). */
  busy(delta: 1 | -1): void;
  /** The clock's time, for windows and intervals. */
  now(): number;
}

/** What an activation consumed, kept until it succeeds or its retries are spent (retries re-run it). */
export interface Inflight {
  readonly consumed: Readonly<Record<string, readonly unknown[]>>;
  readonly counts: Readonly<Record<string, number>>;
  readonly message: Readonly<{ reason: string }>;
  /** The policy itself threw (a custom `ready`/`take`): the activation fails with this, without running. */
  readonly failure?: unknown;
}

export interface RoutineMachineContext {
  readonly routineId: string;
  readonly host: RoutineHost;
  /**
   * Slot -> queued payloads, oldest first. Mutated in place, and only by this machine's actions: copying on
   * every arrival would make a 1,000-item batch quadratic.
   */
  readonly queues: Record<string, unknown[]>;
  readonly inflight: Inflight | undefined;
  /** 0 for the first attempt of the inflight activation, k for retry k. */
  readonly attempt: number;
  readonly paused: boolean;
  /** The retry timer fired (it may fire while paused; the retry then waits for `resume`). */
  readonly retryDue: boolean;
  readonly lastActivationAt: number | undefined;
  /** When data first arrived into empty queues (a window opens). */
  readonly firstArrivalAt: number | undefined;
}

export interface RoutineMachineInput {
  readonly routineId: string;
  readonly slots: readonly string[];
  readonly host: RoutineHost;
}

/** What the error strategy decided for a failed attempt (computed by the runtime, which knows the strategy). */
export type FailureDecision = 'retry' | 'continue' | 'skip' | 'stop';

export type RoutineMachineEvent =
  | { readonly type: `slot.${string}`; readonly payload: unknown }
  | { readonly type: 'activation.done' }
  | { readonly type: 'activation.failed'; readonly decision: FailureDecision; readonly error: unknown }
  | { readonly type: 'retry' }
  | { readonly type: 'tick' }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | RoutineRestoreEvent
  /** Back to a fresh idle routine (the runtime reuses an idle actor for the next job of its flow). */
  | { readonly type: 'reset' };

/** Where a restored routine resumes: `running` and `backoff` are the substates of `active`. */
export type RoutineRestoreTarget = 'idle' | 'running' | 'backoff' | 'skipped' | 'stopped';

/**
 * Puts a fresh (idle, empty) routine actor where a saved job left it. Restoring is a transition like any other, so
 * entry actions run: `running` schedules the in-flight activation again (at-least-once), `backoff` re-arms the
 * retry timer, and `active` counts as busy.
 */
export interface RoutineRestoreEvent {
  readonly type: 'restore';
  readonly target: RoutineRestoreTarget;
  readonly queues: Readonly<Record<string, readonly unknown[]>>;
  readonly inflight: Inflight | undefined;
  readonly attempt: number;
  readonly paused: boolean;
  readonly lastActivationAt: number | undefined;
  readonly firstArrivalAt: number | undefined;
}


/** The policy's consume step over the queues, and the anchors it moves (what the `consume` assignments return). */
function consumeQueues(context: RoutineMachineContext, arrivalAt?: number): Partial<RoutineMachineContext> {
  const inflight = context.host.consume(context, arrivalAt);
  let left = false;
  for (const key in context.queues) if ((context.queues[key]?.length ?? 0) > 0) left = true;
  const now = context.host.now();
  return { inflight, attempt: 0, retryDue: false, lastActivationAt: now, firstArrivalAt: left ? now : undefined };
}

export const routineMachine = setup({
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- XState's idiom for declaring machine types
  types: {} as {
    context: RoutineMachineContext;
    events: RoutineMachineEvent;
    input: RoutineMachineInput;
  },
  guards: {
    /** The activation policy holds (and the job is not paused). */
    ready: ({ context }) => !context.paused && context.host.ready(context),
    /** `ready` where a no leads back to `idle` (see `RoutineHost.ready`). */
    readyElseIdle: ({ context }) => !context.paused && context.host.ready(context, undefined, true),
    /**
     * The policy holds once this arrival is queued. The payload is pushed for the policy to see and taken off
     * again (`enqueueAndConsume` queues it for real), so an arrival that fires the routine takes one microstep,
     * not an arrival followed by the eventless check.
     */
    readyOnArrival: ({ context, event }) => {
      if (context.paused || !('payload' in event)) return false;
      const queue = context.queues[event.type.slice(5)];
      if (!queue) return false;
      queue.push(event.payload);
      try {
        return context.host.ready(context, context.firstArrivalAt ?? context.host.now(), true);
      } finally {
        queue.length--;
      }
    },
    retry: ({ event }) => event.type === 'activation.failed' && event.decision === 'retry',
    skip: ({ event }) => event.type === 'activation.failed' && event.decision === 'skip',
    stop: ({ event }) => event.type === 'activation.failed' && event.decision === 'stop',
    retryNow: ({ context }) => context.retryDue && !context.paused,
    restoreTo: ({ event }, params: { target: RoutineRestoreTarget }) => event.type === 'restore' && event.target === params.target,
  },
  actions: {
    enqueue: assign(({ context, event }) => {
      const queue = context.queues[event.type.slice(5)];
      if (!queue || !('payload' in event)) return {};
      queue.push(event.payload);
      return context.firstArrivalAt === undefined ? { firstArrivalAt: context.host.now() } : {};
    }),
    consume: assign(({ context }) => consumeQueues(context)),
    /** An arrival that fires the routine: queued and consumed in one assignment. */
    enqueueAndConsume: assign(({ context, event }) => {
      if ('payload' in event) context.queues[event.type.slice(5)]?.push(event.payload);
      return consumeQueues(context, context.firstArrivalAt ?? context.host.now());
    }),
    startActivation: ({ context }) => {
      context.host.startActivation(context);
    },
    armRetry: ({ context }) => {
      context.host.armRetry(context);
    },
    enterActive: ({ context }) => {
      context.host.busy(1);
    },
    leaveActive: ({ context }) => {
      context.host.busy(-1);
    },
    nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1, retryDue: false })),
    clearInflight: assign({ inflight: undefined, attempt: 0, retryDue: false }),
    markRetryDue: assign({ retryDue: true }),
    restore: assign(({ context, event }) => {
      if (event.type !== 'restore') return {};
      // One push per item: a restored queue may hold more items than a call takes arguments.
      for (const slot in context.queues) {
        const queue = context.queues[slot] as unknown[];
        // Own keys only: a slot named like an Object.prototype member must not read an inherited value.
        if (Object.hasOwn(event.queues, slot)) for (const item of event.queues[slot] ?? []) queue.push(item);
      }
      return {
        inflight: event.inflight,
        attempt: event.attempt,
        paused: event.paused,
        retryDue: false,
        lastActivationAt: event.lastActivationAt,
        firstArrivalAt: event.firstArrivalAt,
      };
    }),
    reset: assign(({ context }) => {
      for (const slot in context.queues) (context.queues[slot] as unknown[]).length = 0;
      return { inflight: undefined, attempt: 0, paused: false, retryDue: false, lastActivationAt: undefined, firstArrivalAt: undefined };
    }),
    pause: assign({ paused: true }),
    resume: assign({ paused: false }),
  },
}).createMachine({
  id: 'routine',
  context: ({ input }) => ({
    routineId: input.routineId,
    host: input.host,
    queues: Object.fromEntries(input.slots.map((slot) => [slot, [] as unknown[]])),
    inflight: undefined,
    attempt: 0,
    paused: false,
    retryDue: false,
    lastActivationAt: undefined,
    firstArrivalAt: undefined,
  }),
  initial: 'idle',
  on: {
    'slot.*': { actions: 'enqueue' },
    pause: { actions: 'pause' },
    resume: { actions: 'resume' },
  },
  states: {
    idle: {
      // Evaluated after every event (an arrival, a timer tick, resume): the policy is the guard.
      always: { guard: 'ready', target: 'active', actions: 'consume' },
      on: {
        'slot.*': [{ guard: 'readyOnArrival', target: 'active', actions: 'enqueueAndConsume' }, { actions: 'enqueue' }],
        tick: {},
        reset: { actions: 'reset' },
        restore: [
          { guard: { type: 'restoreTo', params: { target: 'running' } }, target: 'active.running', actions: 'restore' },
          { guard: { type: 'restoreTo', params: { target: 'backoff' } }, target: 'active.backoff', actions: 'restore' },
          { guard: { type: 'restoreTo', params: { target: 'skipped' } }, target: 'skipped', actions: 'restore' },
          { guard: { type: 'restoreTo', params: { target: 'stopped' } }, target: 'stopped', actions: 'restore' },
          { actions: 'restore' },
        ],
      },
    },
    active: {
      entry: 'enterActive',
      exit: 'leaveActive',
      initial: 'running',
      states: {
        running: {
          entry: 'startActivation',
          on: {
            // Data already waiting (a routine looping to itself): straight into the next activation, a
            // self-transition of `running` in one microstep (the job stays busy throughout).
            'activation.done': [
              { guard: 'readyElseIdle', target: 'running', reenter: true, actions: 'consume' },
              { target: '#routine.idle', actions: 'clearInflight' },
            ],
            'activation.failed': [
              { guard: 'retry', target: 'backoff', actions: 'nextAttempt' },
              { guard: 'skip', target: '#routine.skipped', actions: 'clearInflight' },
              { guard: 'stop', target: '#routine.stopped', actions: 'clearInflight' },
              { target: '#routine.idle', actions: 'clearInflight' },
            ],
          },
        },
        backoff: {
          entry: 'armRetry',
          always: { guard: 'retryNow', target: 'running' },
          on: { retry: { actions: 'markRetryDue' } },
        },
      },
    },
    /** The `skip` strategy: no further activations in this job; arrivals are kept and reported as pending. */
    skipped: {},
    /** The `stop` strategy: the job fails; arrivals are kept and reported as pending. */
    stopped: {},
  },
});

export type RoutineMachine = typeof routineMachine;
