/**
 * What the API sends for flows and jobs: plain data built from the public runtime API.
 */
import { subflowInfo, toMermaid, type FlowDefinition, type Job, type JobSnapshot } from 'slotflow';

/** A routine's machine state, as the monitor colours it. */
export type MachineState = JobSnapshot['routines'][string]['machine'];

export interface FlowInfo {
  readonly id: string;
  readonly routines: readonly {
    readonly id: string;
    readonly type: string;
    readonly slots: readonly string[];
    readonly events: readonly string[];
    readonly policy: string;
    readonly maxQueue: number;
    readonly timeoutMs?: number;
    /** A subflow routine (`asRoutine`): its mappings and the child flow, described the same way. */
    readonly subflow?: { readonly slots: Readonly<Record<string, string>>; readonly events: Readonly<Record<string, string>>; readonly flow: FlowInfo };
  }[];
  readonly connections: readonly { readonly name: string; readonly from: string; readonly to: string; readonly maxIterations?: number }[];
  readonly entry: string | null;
  readonly mermaid: string;
}

export function describeFlow(flow: FlowDefinition): FlowInfo {
  return {
    id: flow.id,
    routines: [...flow.routines.values()].map((inst) => ({
      id: inst.id,
      type: inst.routine.name,
      slots: inst.routine.slotNames,
      events: inst.routine.eventNames,
      policy: inst.policy.name,
      maxQueue: inst.maxQueue,
      ...(inst.timeoutMs !== undefined ? { timeoutMs: inst.timeoutMs } : {}),
      ...subflowOf(inst.routine),
    })),
    connections: flow.connections.map((c) => ({
      name: c.name,
      from: `${c.from.routine}.${c.from.event}`,
      to: `${c.to.routine}.${c.to.slot}`,
      ...(c.bound ? { maxIterations: c.bound.maxIterations } : {}),
    })),
    entry: flow.entry ? `${flow.entry.routine}.${flow.entry.slot}` : null,
    mermaid: toMermaid(flow),
  };
}

function subflowOf(routine: unknown): { subflow?: NonNullable<FlowInfo['routines'][number]['subflow']> } {
  const sub = subflowInfo(routine);
  return sub ? { subflow: { slots: sub.slots, events: sub.events, flow: describeFlow(sub.flow) } } : {};
}

export interface JobSummary {
  readonly id: string;
  readonly flowId: string;
  readonly status: Job['status'];
  readonly startedAt: number;
  readonly finishedAt?: number;
}

export function summarizeJob(job: Job): JobSummary {
  const state = job.state;
  return { id: job.id, flowId: job.flowId, status: job.status, startedAt: state.startedAt, ...(state.finishedAt !== undefined ? { finishedAt: state.finishedAt } : {}) };
}

/**
 * Each routine's machine state. A live job's comes from its snapshot (which tells `backoff` from `running`); a
 * finished job's routines are idle, skipped, or `stopped` for the one whose `stop` strategy failed the job.
 */
export function machinesOf(job: Job): Record<string, MachineState> {
  const state = job.state;
  const machines: Record<string, MachineState> = {};
  let live: JobSnapshot | undefined;
  if (state.finishedAt === undefined) {
    try {
      live = job.snapshot();
    } catch {
      live = undefined;
    }
  }
  const failedBy = state.error?.name === 'RoutineError' ? (state.error as Error & { routineId?: string }).routineId : undefined;
  for (const [id, routine] of Object.entries(state.routines)) {
    const machine = live?.routines[id]?.machine;
    machines[id] = machine ?? (id === failedBy ? 'stopped' : routine.status === 'running' ? 'running' : routine.status);
  }
  return machines;
}

/**
 * `GET /api/jobs/:id`: the JobState, with each routine's machine state, the job's breakpoints, and the routine a
 * breakpoint holds it before (`pausedAt`, or null).
 */
export function jobDetail(job: Job): Record<string, unknown> {
  return { ...job.state, machines: machinesOf(job), breakpoints: job.breakpoints, pausedAt: job.pausedAt ?? null };
}
