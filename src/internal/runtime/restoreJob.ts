/**
 * restoreJob: continues a job from its snapshot (`exec({ from })`, `runtime.restore`, `recover`). The snapshot is
 * parsed (and migrated), then checked against the flow it names, so a job never restores into a flow where some
 * of its saved data would have nowhere to go.
 */
import { InvalidOptionError, SnapshotError } from '../../errors/index.js';
import type { FlowDefinition } from '../../flow/FlowDefinition.js';
import type { Job } from '../../job/Job.js';
import { isFinalStatus } from '../../types/JobStatus.js';
import { assertOverrides, restoreOverrides } from '../job/overrides.js';
import type { JobSnapshot } from '../../persistence/JobSnapshot.js';
import { parseSnapshot } from '../../persistence/parseSnapshot.js';
import type { AnyFlow } from './FlowRegistry.js';
import { startJob, type JobStarter, type StartOptions } from './startJob.js';

const FROM_SNAPSHOT = ['params', 'jobId', 'timeoutMs', 'keepAlive'] as const;

/** Restores the job of snapshot `value` into `flowOrId` (default: the registered flow it names). */
export function restoreJob(starter: JobStarter, migrate: ((snapshot: unknown) => unknown) | undefined, value: unknown, flowOrId: string | AnyFlow | undefined, options: StartOptions): Job {
  for (const key of FROM_SNAPSHOT)
    if (options[key] !== undefined) throw new InvalidOptionError(`exec({ from, ${key} })`, `no '${key}' with 'from' (the snapshot's own is used)`, options[key]);
  const from = parseSnapshot(value, migrate);
  if (isFinalStatus(from.status))
    throw new SnapshotError('finished', `the job already ${from.status === 'completed' ? 'completed' : from.status === 'failed' ? 'failed' : 'was cancelled'}; there is nothing to continue`, from.jobId);
  if (starter.table.has(from.jobId)) throw new SnapshotError('duplicate', 'this runtime already has a job with this id', from.jobId);
  const flow = flowOf(starter, from, flowOrId);
  assertFits(flow, from);
  const overrides = restoreOverrides(flow, from.jobId, from.overrides, assertOverrides(flow, options.overrides));
  const restored: { -readonly [K in keyof StartOptions]: StartOptions[K] } = { jobId: from.jobId, keepAlive: from.keepAlive };
  if (options.parentId !== undefined) restored.parentId = options.parentId;
  if (overrides) restored.overrides = overrides;
  if (options.signal) restored.signal = options.signal;
  if (options.breakpoints) restored.breakpoints = options.breakpoints;
  if (from.params) restored.params = from.params;
  if (from.timeoutMs !== undefined) restored.timeoutMs = from.timeoutMs;
  return startJob(starter, flow, restored, from.initial, from);
}

function flowOf(starter: JobStarter, from: JobSnapshot, flowOrId: string | AnyFlow | undefined): FlowDefinition {
  let flow: FlowDefinition;
  if (flowOrId === undefined) {
    const registered = starter.flows.get(from.flowId);
    if (!registered) throw new SnapshotError('flow', `its flow '${from.flowId}' is not registered; expected one of ${starter.flows.ids.map((id) => `'${id}'`).join(', ') || '(none registered)'}`, from.jobId);
    flow = registered;
  } else flow = starter.flows.resolve(flowOrId);
  if (flow.id !== from.flowId) throw new SnapshotError('flow', `it is a job of flow '${from.flowId}', not '${flow.id}'`, from.jobId);
  return flow;
}

/** Every routine, slot and event the snapshot holds data for is in `flow`. */
function assertFits(flow: FlowDefinition, from: JobSnapshot): void {
  if (from.initial && !flow.routines.get(from.initial.routine)?.routine.slotNames.includes(from.initial.slot))
    throw new SnapshotError('flow', `flow '${flow.id}' has no slot '${from.initial.routine}.${from.initial.slot}' for the job's first post`, from.jobId);
  for (const key of Object.keys(from.outputs)) {
    const [routineId = '', event = ''] = key.split('.');
    if (!flow.routines.get(routineId)?.routine.eventNames.includes(event))
      throw new SnapshotError('flow', `its outputs hold '${key}', which is not an event of flow '${flow.id}'`, from.jobId);
  }
  for (const [routineId, saved] of Object.entries(from.routines)) {
    const inst = flow.routines.get(routineId);
    if (!inst) throw new SnapshotError('flow', `routine '${routineId}' is not in flow '${flow.id}' (its saved data would be lost)`, from.jobId);
    const slots = new Set(inst.routine.slotNames);
    for (const slot of [...Object.keys(saved.queues), ...Object.keys(saved.inflight?.consumed ?? {})])
      if (!slots.has(slot)) throw new SnapshotError('flow', `routine '${routineId}' of flow '${flow.id}' has no slot '${slot}' (its saved data would be lost)`, from.jobId);
  }
}
