/**
 * A contender host: `host.ts <contender>`, forked by run.ts with an IPC channel. Loads one contender, then
 * serves `prepare` (open + verify + warm up + calibrate one workload), `run` (one measured run) and `close`.
 * See lib/protocol.ts for why every contender has its own process.
 */
import { CONTENDER_KEYS, loadContender, type ContenderKey } from './contenders/index.js';
import { measure, warmUp } from './lib/measure.js';
import type { FromHost, InProcessWorkload, ToHost, WorkloadParams } from './lib/protocol.js';
import { WORKLOADS, type Contender, type Session } from './lib/types.js';
import { errorText, withTimeout } from './lib/util.js';

const key = process.argv[2] as ContenderKey;

function send(message: FromHost): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => { resolve(); });
  });
}

function sendError(stage: string, error: unknown): Promise<void> {
  return send({ type: 'error', stage, message: errorText(error), ...(error instanceof Error && error.stack !== undefined && { stack: error.stack }) });
}

process.on('unhandledRejection', (reason) => void send({ type: 'incident', message: `unhandled rejection: ${errorText(reason)}` }));
process.on('uncaughtException', (error) => void send({ type: 'incident', message: `uncaught exception: ${errorText(error)}` }));
process.on('disconnect', () => process.exit(0));

function open(contender: Contender, workload: InProcessWorkload, params: WorkloadParams): Promise<Session> | undefined {
  switch (workload) {
    case 'chain':
      return contender.chain?.();
    case 'cycle':
      return contender.cycle?.(params.cycleTarget);
    case 'fanout':
      return contender.fanout?.(params.fanout);
    case 'throughput':
      return contender.throughput?.({ inFlight: params.inFlight });
    case 'jobsize':
      return contender.jobsize?.(params.chainLength);
  }
}

let contender: Contender;
let session: Session | undefined;

async function handle(message: ToHost): Promise<void> {
  switch (message.type) {
    case 'prepare': {
      let stage = 'open';
      try {
        const opening = open(contender, message.workload, message.params);
        if (opening === undefined) throw new Error(`${contender.name} has no ${message.workload} implementation`);
        session = await withTimeout(opening, message.calibration.timeoutMs, 'open');
        stage = 'verify';
        await withTimeout(session.verify(), message.calibration.timeoutMs, 'verify');
        stage = 'warm-up';
        await send({ type: 'prepared', count: await warmUp(session, message.calibration) });
      } catch (error) {
        await sendError(stage, error);
      }
      return;
    }
    case 'run':
      try {
        if (session === undefined) throw new Error('no open session');
        await send({ type: 'sample', sample: await measure(session, message.count, message.calibration) });
      } catch (error) {
        await sendError('run', error);
      }
      return;
    case 'close': {
      const notes = [...(session?.notes ?? [])];
      try {
        if (session !== undefined) await withTimeout(session.close(), 30_000, 'close');
      } catch (error) {
        notes.push(`close failed: ${errorText(error)}`);
      }
      await send({ type: 'closed', notes });
      process.disconnect();
      return;
    }
  }
}

try {
  if (!CONTENDER_KEYS.includes(key)) throw new Error(`unknown contender '${key}'`);
  contender = await loadContender(key);
  process.on('message', (message: ToHost) => void handle(message));
  await send({
    type: 'ready',
    info: {
      name: contender.name,
      role: contender.role,
      version: contender.version,
      skip: contender.skip ?? {},
      implements: WORKLOADS.filter((w) => (w === 'soak' ? contender.throughput !== undefined : contender[w] !== undefined)),
    },
  });
} catch (error) {
  await send({ type: 'unavailable', reason: errorText(error) });
  process.disconnect();
}
