/**
 * The routine machine: one actor per routine instance per job.
 *
 * Slot arrivals are its input events (`slot.<name>`, carrying the payload). The activation policy is the guard
 * `ready` on the transitions that can start an activation: an arrival or a policy timer's `tick` in `idle`, the end
 * of an activation in `running` (data already waiting: the cycle, a self-transition of `running`), `resume`. The
 * machine runs at most one activation at a time. User code never runs in here: entering `running` asks the host to
 * schedule the activation (`startActivation`); the host reports back with `activation.done` / `activation.failed`.
 *
 * Lean by design: the routine's data (its slot queues, the activation in flight, the attempt, paused, retry due, the
 * window and interval anchors) lives in the host, which the guards read and plain actions change. The context is
 * `{ host }` and is never assigned (XState copies the context on every `assign`, and snapshots clone it); the states
 * are flat; there is no eventless (`always`) transition. The host queues an arrival before it sends the event, so
 * the policy guard sees it and stays a pure read: an arrival the policy does not take simply stays queued, in every
 * state.
 *
 * Pure definition: no I/O, nothing imported but `xstate`. Every guard and action is implemented here and does one
 * call on the host given as input (`RoutineHost`), so the machine runs (and opens in Stately's editor) with any host.
 */
import { setup } from 'xstate';

/** The routine's data and steps, as the machine reads and changes them (the runtime implements it). */
export interface RoutineHost {
  /** The job is paused: the policy is not asked, and a retry that comes due waits for `resume`. */
  readonly paused: boolean;
  /** The retry timer fired while paused (the retry then waits for `resume`). */
  readonly retryDue: boolean;
  /**
   * The activation policy's guard over the queued data (arrivals already queued). False while paused unless
   * `resuming` (the guard of `resume`, asked before the `resume` action runs). Must not change anything.
   */
  ready(resuming: boolean): boolean;
  /** `idle -> running`: the policy's consume step (takes the data into the in-flight activation); the routine is busy. */
  activate(): void;
  /** `running -> running` (the cycle): the consume step again; the routine stays busy. */
  consume(): void;
  /** Entering `running`: schedule the in-flight activation (never run it here). */
  startActivation(): void;
  /** Entering `backoff`: arm the retry timer. */
  armRetry(): void;
  /** A failed attempt goes to `backoff`: the next attempt of the same in-flight activation. */
  nextAttempt(): void;
  /** Leaving `running` or `backoff` for `idle`, `skipped` or `stopped`: nothing in flight; the routine is not busy. */
  finish(): void;
  /** The retry came due while paused. */
  markRetryDue(): void;
  setPaused(paused: boolean): void;
  /** Back to a fresh idle routine: empty queues, nothing in flight, no anchors, not paused. */
  reset(): void;
  /** Puts the saved data back (a restored `running` or `backoff` routine is busy). */
  restore(event: RoutineRestoreEvent): void;
}

/** What an activation consumed, kept until it succeeds or its retries are spent (retries re-run it). */
export interface Inflight {
  readonly consumed: Readonly<Record<string, readonly unknown[]>>;
  readonly counts: Readonly<Record<string, number>>;
  readonly message: Readonly<{ reason: string }>;
  /** The policy itself threw (a custom `ready`/`take`): the activation fails with this, without running. */
  readonly failure?: unknown;
}

/** The context: only the host, set once when the actor is created. */
export interface RoutineMachineContext {
  readonly host: RoutineHost;
}

export interface RoutineMachineInput {
  readonly host: RoutineHost;
}

/** What the error strategy decided for a failed attempt (computed by the runtime, which knows the strategy). */
export type FailureDecision = 'retry' | 'continue' | 'skip' | 'stop';

export type RoutineMachineEvent =
  /** Data arrived in slot `<name>` (the host queued it before sending this). */
  | { readonly type: `slot.${string}`; readonly payload: unknown }
  | { readonly type: 'activation.done' }
  /** `policy`: the policy itself failed (nothing was consumed): the routine does not ask it again at once. */
  | { readonly type: 'activation.failed'; readonly decision: FailureDecision; readonly error: unknown; readonly policy?: boolean }
  | { readonly type: 'retry' }
  | { readonly type: 'tick' }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | RoutineRestoreEvent
  /** Back to a fresh idle routine. */
  | { readonly type: 'reset' };

/** Where a restored routine resumes. */
export type RoutineRestoreTarget = 'idle' | 'running' | 'backoff' | 'skipped' | 'stopped';

/**
 * Puts a fresh (idle, empty) routine actor where a saved job left it. Restoring is a transition like any other, so
 * entry actions run: `running` schedules the in-flight activation again (at-least-once), `backoff` re-arms the
 * retry timer. A routine restored `idle` asks its policy at its next event (an arrival, a `tick`, `resume`).
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

type Guard = (args: { context: RoutineMachineContext; event: RoutineMachineEvent }) => boolean;
const decided =
  (decision: FailureDecision): Guard =>
  ({ event }) =>
    event.type === 'activation.failed' && event.decision === decision;

export const routineMachine = setup({
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- XState's idiom for declaring machine types
  types: {} as {
    context: RoutineMachineContext;
    events: RoutineMachineEvent;
    input: RoutineMachineInput;
  },
  guards: {
    /** The activation policy holds (and the job is not paused). */
    ready: ({ context }) => context.host.ready(false),
    /** `resume`: the policy holds (asked as if already resumed). */
    readyOnResume: ({ context }) => context.host.ready(true),
    /** An activation that failed with `continue` (not the policy's own failure), and data is waiting. */
    readyAfterFailure: ({ context, event }) => event.type === 'activation.failed' && event.policy !== true && context.host.ready(false),
    retry: decided('retry'),
    skip: decided('skip'),
    stop: decided('stop'),
    notPaused: ({ context }) => !context.host.paused,
    retryDue: ({ context }) => context.host.retryDue,
    restoreTo: ({ event }, params: { target: RoutineRestoreTarget }) => event.type === 'restore' && event.target === params.target,
  },
  actions: {
    activate: ({ context }) => {
      context.host.activate();
    },
    consume: ({ context }) => {
      context.host.consume();
    },
    startActivation: ({ context }) => {
      context.host.startActivation();
    },
    armRetry: ({ context }) => {
      context.host.armRetry();
    },
    nextAttempt: ({ context }) => {
      context.host.nextAttempt();
    },
    finish: ({ context }) => {
      context.host.finish();
    },
    markRetryDue: ({ context }) => {
      context.host.markRetryDue();
    },
    pause: ({ context }) => {
      context.host.setPaused(true);
    },
    resume: ({ context }) => {
      context.host.setPaused(false);
    },
    reset: ({ context }) => {
      context.host.reset();
    },
    restore: ({ context, event }) => {
      if (event.type === 'restore') context.host.restore(event);
    },
  },
}).createMachine({
  id: 'routine',
  context: ({ input }) => ({ host: input.host }),
  initial: 'idle',
  on: {
    pause: { actions: 'pause' },
    resume: { actions: 'resume' },
  },
  states: {
    idle: {
      on: {
        // The policy is the guard: an arrival it does not take stays queued (the host queued it).
        'slot.*': { guard: 'ready', target: 'running', actions: 'activate' },
        // A policy timer (interval, window) or a policy's retry: time alone may make the guard hold.
        tick: { guard: 'ready', target: 'running', actions: 'activate' },
        resume: [{ guard: 'readyOnResume', target: 'running', actions: ['resume', 'activate'] }, { actions: 'resume' }],
        reset: { actions: 'reset' },
        restore: [
          { guard: { type: 'restoreTo', params: { target: 'running' } }, target: 'running', actions: 'restore' },
          { guard: { type: 'restoreTo', params: { target: 'backoff' } }, target: 'backoff', actions: 'restore' },
          { guard: { type: 'restoreTo', params: { target: 'skipped' } }, target: 'skipped', actions: 'restore' },
          { guard: { type: 'restoreTo', params: { target: 'stopped' } }, target: 'stopped', actions: 'restore' },
          { actions: 'restore' },
        ],
      },
    },
    running: {
      entry: 'startActivation',
      on: {
        // Data already waiting (a routine looping to itself): straight into the next activation, a self-transition
        // of `running` in one microstep (the job stays busy throughout).
        'activation.done': [
          { guard: 'ready', target: 'running', reenter: true, actions: 'consume' },
          { target: 'idle', actions: 'finish' },
        ],
        'activation.failed': [
          { guard: 'retry', target: 'backoff', actions: 'nextAttempt' },
          { guard: 'skip', target: 'skipped', actions: 'finish' },
          { guard: 'stop', target: 'stopped', actions: 'finish' },
          { guard: 'readyAfterFailure', target: 'running', reenter: true, actions: 'consume' },
          { target: 'idle', actions: 'finish' },
        ],
      },
    },
    backoff: {
      entry: 'armRetry',
      on: {
        retry: [{ guard: 'notPaused', target: 'running' }, { actions: 'markRetryDue' }],
        resume: [{ guard: 'retryDue', target: 'running', actions: 'resume' }, { actions: 'resume' }],
      },
    },
    /** The `skip` strategy: no further activations in this job; arrivals are kept and reported as pending. */
    skipped: {},
    /** The `stop` strategy: the job fails; arrivals are kept and reported as pending. */
    stopped: {},
  },
});

export type RoutineMachine = typeof routineMachine;
