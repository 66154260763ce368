/**
 * Messages between run.ts and a contender host (host.ts, one process per contender and workload). Each contender
 * runs in its own process because contenders change process-wide costs: LangGraph.js runs every graph inside an
 * AsyncLocalStorage, which on Node 20 turns on promise hooks for the whole process and makes every `await` of
 * every other contender (the floor included) 2-4x dearer. Rounds still interleave: run.ts asks each host in turn.
 */
import type { Calibration, Sample } from './measure.js';
import type { FanoutOptions, Role, WorkloadName } from './types.js';

export type InProcessWorkload = Exclude<WorkloadName, 'scale' | 'soak'>;

export interface WorkloadParams {
  cycleTarget: number;
  fanout: FanoutOptions;
  inFlight: number;
  /** jobsize: routines per job. */
  chainLength: number;
}

export interface ContenderInfo {
  name: string;
  role: Role;
  version: string;
  skip: Partial<Record<WorkloadName, string>>;
  implements: WorkloadName[];
}

export type ToHost =
  | { type: 'prepare'; workload: InProcessWorkload; params: WorkloadParams; calibration: Calibration }
  | { type: 'run'; count: number; calibration: Calibration }
  | { type: 'close' };

export type FromHost =
  | { type: 'ready'; info: ContenderInfo }
  | { type: 'unavailable'; reason: string }
  | { type: 'prepared'; count: number }
  | { type: 'sample'; sample: Sample }
  | { type: 'closed'; notes: string[] }
  | { type: 'error'; stage: string; message: string; stack?: string }
  | { type: 'incident'; message: string };
