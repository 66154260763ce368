/**
 * The flow supervisor machine: one per job, its own root actor.
 *
 * It owns the job's lifecycle (`queued -> running <-> paused`, `running <-> idle` with keepAlive, then
 * `completed | failed | cancelled`), routes every emitted payload to the connected slots (`routine.emitted`,
 * action `route`) and every posted payload (`post`), and detects completion: `running` leaves for `completed` (or
 * `idle` with keepAlive) on `settle`, guarded by `done` / `quiescent`: no activation running or waiting for the
 * scheduler, no routine whose policy holds, no pending timer. The host sends `settle` whenever the job may have
 * become quiescent (its busy count dropped to zero, or after `start`, `resume`, `complete` or a post), so nothing
 * polls and no timer runs.
 *
 * Lean by design: the job's data (keepAlive, a pending `complete()`, the error) lives in the host, which the guards
 * read and plain actions change; the context is `{ host }` and is never assigned; no eventless transition.
 *
 * Pure definition: no I/O, nothing imported but `xstate`. Every guard and action is implemented here and does one
 * call on the host given as input (`SupervisorHost`).
 */
import { setup } from 'xstate';

/** The cycle guard of a bounded edge: deliver while `!until(payload) && iterations < maxIterations`. */
export function edgeOutcome(converged: boolean, iterations: number, maxIterations: number): 'deliver' | 'converged' | 'exhausted' {
  if (converged) return 'converged';
  return iterations < maxIterations ? 'deliver' : 'exhausted';
}

export interface SupervisorHost {
  /** A keepAlive job waits (`idle`) when quiescent, until `complete()`. */
  readonly keepAlive: boolean;
  /** `complete()` was called on a keepAlive job: complete when next quiescent. */
  readonly completing: boolean;
  /** No activation running or scheduled, no timer armed, nothing a policy would take. */
  quiescent(): boolean;
  /** Routes one emitted payload to the connected slots. */
  route(routineId: string, event: string, payload: unknown): void;
  /** Delivers a posted payload into a slot. */
  deliver(routineId: string, slot: string, payload: unknown): void;
  pauseRoutines(paused: boolean): void;
  /** `complete()` (or a restored job that had received it). */
  markCompleting(): void;
  /** The error a `fail` or `cancel` ends the job with. */
  recordError(error: unknown): void;
  /** The job reached a final status: tear down timers, actors and scheduled work. */
  finished(status: 'completed' | 'failed' | 'cancelled'): void;
  /** Entered a status (for events and the job's `status`). */
  status(status: SupervisorStatus): void;
}

export type SupervisorStatus = 'queued' | 'running' | 'paused' | 'idle' | 'completed' | 'failed' | 'cancelled';

/** The context: only the host, set once when the actor is created. */
export interface SupervisorContext {
  readonly host: SupervisorHost;
}

export interface SupervisorInput {
  readonly host: SupervisorHost;
}

export type SupervisorEvent =
  /** Admission. A restored job starts `paused` if it was, and keeps a `complete()` it had received. */
  | { readonly type: 'start'; readonly paused?: boolean; readonly completing?: boolean }
  | { readonly type: 'routine.emitted'; readonly routineId: string; readonly event: string; readonly payload: unknown }
  | { readonly type: 'post'; readonly routineId: string; readonly slot: string; readonly payload: unknown }
  | { readonly type: 'settle' }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'complete' }
  | { readonly type: 'fail'; readonly error: unknown }
  | { readonly type: 'cancel'; readonly error: unknown }
  /**
   * From a final status only: back to `queued` for another job (the runtime reuses finished supervisors). A `start`
   * in a final status is `reset` and `start` in one step (a reused supervisor admitted at once).
   */
  | { readonly type: 'reset' };

/** Every live status ends the job on `fail` or `cancel`. */
const ends = {
  fail: { target: 'failed', actions: 'recordError' },
  cancel: { target: 'cancelled', actions: 'recordError' },
} as const;

/** `settle`: the job may be quiescent; done (or idle, keepAlive) if it is. */
const settle = [
  { guard: 'done', target: 'completed' },
  { guard: 'quiescent', target: 'idle' },
] as const;

/**
 * A finished supervisor reused by a job admitted at once: `reset` and `start` in one transition. The job passes
 * through `queued` (`reopen` tells the host so, as `queued`'s entry would, then does what `restoreCompleting` does)
 * without a macrostep of its own. One action rather than two: XState's cost per event grows with each action.
 */
const reopen = {
  reset: 'queued',
  start: [
    { guard: 'startPaused', target: 'paused', actions: 'reopen' },
    { target: 'running', actions: 'reopen' },
  ],
} as const;

export const supervisorMachine = setup({
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- XState's idiom for declaring machine types
  types: {} as { context: SupervisorContext; events: SupervisorEvent; input: SupervisorInput },
  guards: {
    quiescent: ({ context }) => context.host.quiescent(),
    startPaused: ({ event }) => event.type === 'start' && event.paused === true,
    done: ({ context }) => (!context.host.keepAlive || context.host.completing) && context.host.quiescent(),
  },
  actions: {
    route: ({ context, event }) => {
      if (event.type === 'routine.emitted') context.host.route(event.routineId, event.event, event.payload);
    },
    deliver: ({ context, event }) => {
      if (event.type === 'post') context.host.deliver(event.routineId, event.slot, event.payload);
    },
    pauseRoutines: ({ context }) => {
      context.host.pauseRoutines(true);
    },
    resumeRoutines: ({ context }) => {
      context.host.pauseRoutines(false);
    },
    markCompleting: ({ context }) => {
      context.host.markCompleting();
    },
    restoreCompleting: ({ context, event }) => {
      if (event.type === 'start' && event.completing === true) context.host.markCompleting();
    },
    recordError: ({ context, event }) => {
      if (event.type === 'fail' || event.type === 'cancel') context.host.recordError(event.error);
    },
    status: ({ context }, params: { status: SupervisorStatus }) => {
      context.host.status(params.status);
    },
    /** `queued`'s status, then `restoreCompleting` (see `reopen`). */
    reopen: ({ context, event }) => {
      context.host.status('queued');
      if (event.type === 'start' && event.completing === true) context.host.markCompleting();
    },
    /** A final status: the host is told the status, then that the job finished (one action, not two). */
    finished: ({ context }, params: { status: 'completed' | 'failed' | 'cancelled' }) => {
      context.host.status(params.status);
      context.host.finished(params.status);
    },
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ host: input.host }),
  initial: 'queued',
  states: {
    queued: {
      entry: { type: 'status', params: { status: 'queued' } },
      on: {
        start: [
          { guard: 'startPaused', target: 'paused', actions: 'restoreCompleting' },
          { target: 'running', actions: 'restoreCompleting' },
        ],
        ...ends,
        post: { actions: 'deliver' },
        // Activations are held until admission, so nothing emits here; routed anyway rather than dropped.
        'routine.emitted': { actions: 'route' },
        complete: { actions: 'markCompleting' },
      },
    },
    running: {
      entry: { type: 'status', params: { status: 'running' } },
      on: {
        'routine.emitted': { actions: 'route' },
        post: { actions: 'deliver' },
        settle,
        pause: 'paused',
        complete: { actions: 'markCompleting' },
        ...ends,
      },
    },
    paused: {
      entry: [{ type: 'status', params: { status: 'paused' } }, 'pauseRoutines'],
      exit: 'resumeRoutines',
      on: {
        'routine.emitted': { actions: 'route' },
        post: { actions: 'deliver' },
        resume: 'running',
        complete: { actions: 'markCompleting' },
        ...ends,
      },
    },
    /** keepAlive only: quiescent, waiting for posts or `complete()`. */
    idle: {
      entry: { type: 'status', params: { status: 'idle' } },
      on: {
        post: { target: 'running', actions: 'deliver' },
        'routine.emitted': { target: 'running', actions: 'route' },
        complete: { target: 'running', actions: 'markCompleting' },
        pause: 'paused',
        ...ends,
      },
    },
    // The final statuses answer only `reset` (and `start`, see `reopen`): a finished job ignores everything else.
    completed: { entry: { type: 'finished', params: { status: 'completed' } }, on: reopen },
    failed: { entry: { type: 'finished', params: { status: 'failed' } }, on: reopen },
    cancelled: { entry: { type: 'finished', params: { status: 'cancelled' } }, on: reopen },
  },
});

export type SupervisorMachine = typeof supervisorMachine;
