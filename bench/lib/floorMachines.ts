/**
 * Lean, flat XState v5 machines for the "XState floor" contender (contenders/xstateFloor.ts): what slotflow's
 * design costs in XState alone. Written here on purpose rather than imported from slotflow's machines/, so that
 * the floor does not move when slotflow's machines (and their host interface) change.
 *
 * The shape is the lean one slotflow's design allows at best: one machine actor per routine whose input events are
 * the slot arrivals (`slot.<name>`), whose activation policy is a guard, whose cycle (data waiting when an
 * activation ends) is a self-transition of `running`; one supervisor actor per job (`reset`, `start`, `settle`).
 * The data lives in a host object that guards read and plain actions change: the context is `{ host }` and is
 * never assigned, states are flat, there is no `always` and no compound state. The states a real routine needs
 * (backoff, skipped, stopped) and the failure transitions are present, so the machine is no smaller than a real one.
 */
import { setup } from 'xstate';

/** What a routine actor asks of its host: the queues, the policy and the scheduler live there. */
export interface FloorRoutineHost {
  paused: boolean;
  retryDue: boolean;
  /** The policy, asked about an arrival before it is queued (pure: it does not queue it). */
  readyOnArrival(slot: string): boolean;
  /** The policy over what is queued (when an activation ends: the cycle). */
  ready(): boolean;
  enqueue(slot: string, payload: unknown): void;
  /** Consume what the policy takes; the routine becomes busy (idle -> running). */
  activate(): void;
  /** Consume again (running -> running, the cycle); stays busy. */
  consume(): void;
  /** Entering `running`: schedule the activation (never run it inside the transition). */
  startActivation(): void;
  /** Leaving `running` for good: not busy any more. */
  finish(): void;
  nextAttempt(): void;
}

export type FloorRoutineEvent =
  | { readonly type: `slot.${string}`; readonly payload: unknown }
  | { readonly type: 'activation.done' }
  | { readonly type: 'activation.failed'; readonly decision: 'retry' | 'continue' | 'skip' | 'stop' }
  | { readonly type: 'retry' }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' };

const slotOf = (event: FloorRoutineEvent): string => event.type.slice(5);
const payloadOf = (event: FloorRoutineEvent): unknown => (event as { payload?: unknown }).payload;
const decisionOf = (event: FloorRoutineEvent): string | undefined => (event as { decision?: string }).decision;

export const floorRoutineMachine = setup({
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- XState's idiom for declaring machine types
  types: {} as { context: { host: FloorRoutineHost }; events: FloorRoutineEvent; input: { host: FloorRoutineHost } },
  guards: {
    readyOnArrival: ({ context, event }) => !context.host.paused && context.host.readyOnArrival(slotOf(event)),
    readyElseIdle: ({ context }) => !context.host.paused && context.host.ready(),
    retry: ({ event }) => decisionOf(event) === 'retry',
    skip: ({ event }) => decisionOf(event) === 'skip',
    stop: ({ event }) => decisionOf(event) === 'stop',
    notPaused: ({ context }) => !context.host.paused,
  },
  actions: {
    enqueue: ({ context, event }) => { context.host.enqueue(slotOf(event), payloadOf(event)); },
    enqueueAndActivate: ({ context, event }) => {
      context.host.enqueue(slotOf(event), payloadOf(event));
      context.host.activate();
    },
    consume: ({ context }) => { context.host.consume(); },
    startActivation: ({ context }) => { context.host.startActivation(); },
    finish: ({ context }) => { context.host.finish(); },
    nextAttempt: ({ context }) => { context.host.nextAttempt(); },
    markRetryDue: ({ context }) => { context.host.retryDue = true; },
    pause: ({ context }) => { context.host.paused = true; },
    resume: ({ context }) => { context.host.paused = false; },
  },
}).createMachine({
  id: 'routine',
  context: ({ input }) => ({ host: input.host }),
  initial: 'idle',
  on: {
    'slot.*': { actions: 'enqueue' },
    pause: { actions: 'pause' },
    resume: { actions: 'resume' },
  },
  states: {
    idle: {
      on: {
        'slot.*': [{ guard: 'readyOnArrival', target: 'running', actions: 'enqueueAndActivate' }, { actions: 'enqueue' }],
      },
    },
    running: {
      entry: 'startActivation',
      on: {
        'activation.done': [
          { guard: 'readyElseIdle', target: 'running', reenter: true, actions: 'consume' },
          { target: 'idle', actions: 'finish' },
        ],
        'activation.failed': [
          { guard: 'retry', target: 'backoff', actions: 'nextAttempt' },
          { guard: 'skip', target: 'skipped', actions: 'finish' },
          { guard: 'stop', target: 'stopped', actions: 'finish' },
          { target: 'idle', actions: 'finish' },
        ],
      },
    },
    backoff: {
      on: { retry: [{ guard: 'notPaused', target: 'running' }, { actions: 'markRetryDue' }] },
    },
    skipped: {},
    stopped: {},
  },
});

/** What a supervisor actor asks of its job. */
export interface FloorSupervisorHost {
  /** Nothing running, nothing queued that a policy would take. */
  quiescent(): boolean;
  /** The job may end when quiescent (not a keepAlive job, or one told to complete). */
  mayEnd(): boolean;
  finished(status: 'completed' | 'failed' | 'cancelled'): void;
}

export interface FloorSupervisorEvent {
  readonly type: 'reset' | 'start' | 'settle' | 'pause' | 'resume' | 'complete' | 'fail' | 'cancel';
}

const ends = { fail: 'failed', cancel: 'cancelled' } as const;

export const floorSupervisorMachine = setup({
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- XState's idiom for declaring machine types
  types: {} as { context: { host: FloorSupervisorHost }; events: FloorSupervisorEvent; input: { host: FloorSupervisorHost } },
  guards: {
    done: ({ context }) => context.host.mayEnd() && context.host.quiescent(),
    quiescent: ({ context }) => context.host.quiescent(),
  },
  actions: {
    finished: ({ context }, params: { status: 'completed' | 'failed' | 'cancelled' }) => { context.host.finished(params.status); },
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ host: input.host }),
  initial: 'queued',
  states: {
    queued: { on: { start: 'running', ...ends } },
    running: {
      on: {
        settle: [{ guard: 'done', target: 'completed' }, { guard: 'quiescent', target: 'idle' }],
        pause: 'paused',
        ...ends,
      },
    },
    paused: { on: { resume: 'running', ...ends } },
    idle: { on: { complete: 'running', pause: 'paused', ...ends } },
    completed: { entry: { type: 'finished', params: { status: 'completed' } }, on: { reset: 'queued' } },
    failed: { entry: { type: 'finished', params: { status: 'failed' } }, on: { reset: 'queued' } },
    cancelled: { entry: { type: 'finished', params: { status: 'cancelled' } }, on: { reset: 'queued' } },
  },
});
