/**
 * The parent side of the in-process workloads: one host process per contender (lib/protocol.ts says why), each
 * verified, warmed up and calibrated in turn; then the rounds, the contenders interleaved within each round (the
 * order rotates every round), each host doing a full GC before its measured run; the median per contender and the
 * median of per-round ratios against a reference (the plain-async floor, or slotflow).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ContenderKey } from '../contenders/index.js';
import type { Calibration, Sample } from './measure.js';
import type { ContenderInfo, FromHost, InProcessWorkload, ToHost, WorkloadParams } from './protocol.js';
import { childExecArgv, median } from './util.js';

export type { Sample } from './measure.js';

const hostPath = fileURLToPath(new URL('../host.ts', import.meta.url));

/** A forked contender host, one request at a time. */
export class Host {
  private readonly child: ChildProcess;
  private waiting: { resolve(m: FromHost): void; reject(e: Error): void } | undefined;
  private exited: string | undefined;
  private stderr = '';

  private constructor(
    readonly key: ContenderKey,
    private readonly onIncident: (text: string) => void,
    label: string | undefined,
  ) {
    this.child = fork(hostPath, [key], { execArgv: childExecArgv(label), stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('message', (message: FromHost) => {
      if (message.type === 'incident') { this.onIncident(`${key}: ${message.message}`); return; }
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.resolve(message);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `host process exited (${code ?? signal})${this.stderr.trim() ? `: ${this.stderr.trim().split('\n').slice(-6).join(' | ')}` : ''}`;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.reject(new Error(this.exited));
    });
  }

  /**
   * Fork a host and wait until it has loaded its contender (or said why it cannot). `label` names its CPU profile
   * under `node --cpu-prof` (no label: not profiled).
   */
  static async start(key: ContenderKey, onIncident: (text: string) => void, label?: string, timeoutMs = 120_000): Promise<{ host: Host; info?: ContenderInfo; reason?: string }> {
    const host = new Host(key, onIncident, label);
    try {
      const first = await host.next(timeoutMs);
      if (first.type === 'ready') return { host, info: first.info };
      host.kill();
      return { host, reason: first.type === 'unavailable' ? first.reason : `unexpected ${first.type}` };
    } catch (error) {
      host.kill();
      return { host, reason: (error as Error).message };
    }
  }

  request(message: ToHost, timeoutMs: number): Promise<FromHost> {
    const reply = this.next(timeoutMs);
    this.child.send(message);
    return reply;
  }

  private next(timeoutMs: number): Promise<FromHost> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    return new Promise<FromHost>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.kill();
        reject(new Error(`no answer from the ${this.key} host after ${Math.round(timeoutMs / 1000)} s (killed)`));
      }, timeoutMs);
      this.waiting = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }

  /** Let the host exit by itself (it writes its CPU profile on exit), killing it after `timeoutMs`. */
  async finish(timeoutMs: number): Promise<void> {
    if (this.exited !== undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        resolve();
      }, timeoutMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export interface ContenderResult {
  key: ContenderKey;
  name: string;
  role: ContenderInfo['role'];
  version: string;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  /** Units per round (after calibration). */
  count?: number;
  /** One sample per round; missing where the contender did not take part. */
  rounds: (Sample | null)[];
  notes: string[];
}

export interface RoundsOptions {
  workload: InProcessWorkload;
  params: WorkloadParams;
  calibration: Calibration;
  rounds: number;
  log: (line: string) => void;
  incident: (text: string) => void;
}

interface Entry {
  result: ContenderResult;
  /** What this entry's host gets on top of the workload's params (jobsize: its chain length). */
  params?: Partial<WorkloadParams>;
  label: string;
  host?: Host;
}

/**
 * One contender in the rounds. The same contender may appear several times with different `params` (jobsize: one
 * entry per chain length, so that every length is measured in the same rounds); `label` then tells them apart
 * (it suffixes the name and the CPU profile's directory).
 */
export interface RoundsContender {
  key: ContenderKey;
  info: ContenderInfo;
  params?: Partial<WorkloadParams>;
  label?: string;
}

/** Run one workload over every contender (each in a fresh host); the results are in the order of `contenders`. */
export async function runRounds(contenders: readonly RoundsContender[], options: RoundsOptions): Promise<ContenderResult[]> {
  const { workload, calibration, log } = options;
  const answerMs = calibration.timeoutMs + 30 * Math.max(calibration.roundMs, calibration.warmupMs) + 60_000;
  const entries: Entry[] = contenders.map(({ key, info, params, label }) => ({
    result: { key, name: label === undefined ? info.name : `${info.name} ${label}`, role: info.role, version: info.version, status: 'ok', rounds: [], notes: [] },
    ...(params !== undefined && { params }),
    label: label === undefined ? '' : `-${label.replace(/\W+/g, '')}`,
  }));
  const fail = (entry: Entry, stage: string, message: string, stack?: string): void => {
    entry.result.status = 'error';
    entry.result.reason = `${stage}: ${message}`;
    log(`  ! ${entry.result.name}: ${entry.result.reason}`);
    if (stack) log(stack.split('\n').slice(1, 7).map((l) => `      ${l.trim()}`).join('\n'));
    entry.host?.kill();
  };

  // start the hosts that implement the workload (in parallel: loading is not measured)
  const starting = entries.map(async (entry, i) => {
    const info = contenders[i]?.info;
    if (info === undefined) return;
    if (!info.implements.includes(workload)) {
      entry.result.status = 'skipped';
      entry.result.reason = info.skip[workload] ?? `no ${workload} implementation`;
      return;
    }
    const started = await Host.start(entry.result.key, options.incident, `${workload}-${entry.result.key}${entry.label}`);
    if (started.reason !== undefined) fail(entry, 'load', started.reason);
    else entry.host = started.host;
  });
  await Promise.all(starting);

  // verify, warm up and calibrate, one contender at a time
  for (const entry of entries) {
    if (entry.result.status !== 'ok' || entry.host === undefined) continue;
    try {
      const reply = await entry.host.request({ type: 'prepare', workload, params: { ...options.params, ...entry.params }, calibration }, answerMs);
      if (reply.type === 'prepared') {
        entry.result.count = reply.count;
        log(`  warmed ${entry.result.name}: ${reply.count} unit(s) per round`);
      } else if (reply.type === 'error') fail(entry, reply.stage, reply.message, reply.stack);
      else fail(entry, 'prepare', `unexpected ${reply.type}`);
    } catch (error) {
      fail(entry, 'prepare', (error as Error).message);
    }
  }

  for (let round = 0; round < options.rounds; round++) {
    const active = entries.filter((e) => e.result.status === 'ok' && e.host !== undefined);
    if (active.length === 0) break;
    // rotate the order every round so that no contender always runs right after the same one
    const order = active.map((_, i) => active[(i + round) % active.length]);
    for (const entry of order) {
      if (entry?.host === undefined) continue;
      try {
        const reply = await entry.host.request({ type: 'run', count: entry.result.count ?? 1, calibration }, answerMs);
        if (reply.type === 'sample') entry.result.rounds[round] = reply.sample;
        else if (reply.type === 'error') fail(entry, `round ${round + 1}`, reply.message, reply.stack);
        else fail(entry, `round ${round + 1}`, `unexpected ${reply.type}`);
      } catch (error) {
        fail(entry, `round ${round + 1}`, (error as Error).message);
      }
    }
    log(`  round ${round + 1}/${options.rounds} done`);
  }
  for (const entry of entries) {
    for (let round = 0; round < options.rounds; round++) entry.result.rounds[round] ??= null;
  }

  await Promise.all(
    entries.map(async (entry) => {
      if (entry.host === undefined || entry.result.status === 'error') return;
      try {
        const reply = await entry.host.request({ type: 'close' }, 60_000);
        if (reply.type === 'closed') entry.result.notes.push(...reply.notes);
      } catch (error) {
        entry.result.notes.push(`close: ${(error as Error).message}`);
      }
      await entry.host.finish(30_000);
    }),
  );
  return entries.map((e) => e.result);
}

/** Median per-round value of `pick`, and the median of the per-round ratios against `against`. */
export function summarise(
  result: ContenderResult,
  pick: (s: Sample) => number,
  against?: ContenderResult,
): { median: number; min: number; max: number; ratio?: number } {
  const values = result.rounds.filter((s): s is Sample => s !== null).map(pick);
  const out: { median: number; min: number; max: number; ratio?: number } = {
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
  };
  if (against?.status === 'ok') {
    const ratios: number[] = [];
    result.rounds.forEach((sample, round) => {
      const base = against.rounds[round];
      if (sample && base && pick(base) > 0) ratios.push(pick(sample) / pick(base));
    });
    if (ratios.length) out.ratio = median(ratios);
  }
  return out;
}
