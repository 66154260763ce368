/**
 * The shapes every contender implements. A contender is a baseline (the plain-async floor, raw XState), the
 * subject (slotflow) or a peer (LangGraph.js, Mastra). A workload a contender cannot express is simply absent
 * (the harness prints why, from `skip`).
 */

/** One open workload: `run(count)` performs `count` units of work (jobs, or batches for fan-out). */
export interface Session {
  /** Run one unit and throw when its result is not what the workload expects. Called once, before timing. */
  verify(): Promise<void>;
  /** Run `count` units. Timed by the harness. */
  run(count: number): Promise<void>;
  /** Free everything (for slotflow: `await runtime.shutdown()`). */
  close(): Promise<void>;
  /** A remark to print under the table (e.g. a measured deviation from the SPEC that is not fatal). */
  notes?: string[];
}

export interface FanoutOptions {
  /** Jobs per batch (50). */
  jobs: number;
  /** Jobs in flight at most (10; slotflow: `maxJobs`). */
  inFlight: number;
  /** The timer each branch awaits (20 ms). */
  branchMs: number;
}

export interface ThroughputOptions {
  /** Jobs in flight at most (1,000). */
  inFlight: number;
}

/** An open population of idle jobs, each waiting for a post. */
export interface ScaleHandle {
  /** Post one payload into every open job and resolve once every job has processed it. */
  postAll(): Promise<void>;
  /** Complete every job and resolve once all have finished. */
  completeAll(): Promise<void>;
  close(): Promise<void>;
}

/** `variant`: the subject with a setting changed (its ratio against slotflow is the cost of that setting). */
export type Role = 'baseline' | 'subject' | 'peer' | 'variant';

export interface Contender {
  name: string;
  role: Role;
  /** Library version or a one-line description, printed with the results. */
  version: string;
  /** Why a workload is not implemented, by workload name. */
  skip?: Partial<Record<WorkloadName, string>>;
  /** chain: one unit = one job through 5 routines in a line. */
  chain?(): Promise<Session>;
  /**
   * jobsize: one unit = one job through `length` routines in a line (1, 2, 5, 10): CPU per job against routines
   * per job gives the cost per hop (the slope) and per job (the intercept).
   */
  jobsize?(length: number): Promise<Session>;
  /** cycle: one unit = one job looping to itself until n reaches `target`. */
  cycle?(target: number): Promise<Session>;
  /** fan-out: one unit = one batch of `jobs` jobs, `inFlight` at a time. */
  fanout?(options: FanoutOptions): Promise<Session>;
  /** throughput: `run(count)` runs `count` 3-routine chain jobs with at most `inFlight` in flight. */
  throughput?(options: ThroughputOptions): Promise<Session>;
  /** scale: open `n` keepAlive jobs, each idle and waiting for a post. */
  scale?(n: number): Promise<ScaleHandle>;
}

export type WorkloadName = 'chain' | 'cycle' | 'fanout' | 'throughput' | 'jobsize' | 'scale' | 'soak';

export const WORKLOADS: readonly WorkloadName[] = ['chain', 'cycle', 'fanout', 'throughput', 'jobsize', 'scale', 'soak'];
