/**
 * Watching jobs in the Stately inspector: `createRuntime({ inspect })` hands an XState inspection observer to every
 * actor the runtime creates (each job's supervisor `job:<jobId>` and its routine actors `routine:<jobId>:<routineId>`).
 *
 * Here the observer is `@statelyai/inspect`'s WebSocket inspector, which sends everything to a loopback relay
 * (`createInspectorServer`); a receiver on the relay (what the browser page does) counts what arrived.
 *
 *   npx tsx examples/11-inspect.ts                      # runs one job, prints what the inspector received, exits
 *   SLOTFLOW_INSPECT=1 npx tsx examples/11-inspect.ts   # keeps the relay open on port 8080: open
 *                                                       # http://localhost:8080, press Enter to run a job
 *
 * (`@statelyai/inspect` is a development dependency of slotflow: `npm install -D @statelyai/inspect` in your project.)
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWebSocketInspector, createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { createFlow, createRuntime, defineRoutine, policies } from 'slotflow';

const live = process.env.SLOTFLOW_INSPECT === '1';

// --- the flow: split a number range, square each part, add the squares up -------------------------------------

const split = defineRoutine({
  name: 'split',
  slots: ['trigger'],
  events: { part: ['n'] },
  run({ slots, emit }) {
    for (const { upTo } of slots.trigger) for (let n = 1; n <= Number(upTo); n++) emit('part', { n });
  },
});

const square = defineRoutine({
  name: 'square',
  slots: ['in'],
  events: { out: ['n'] },
  config: { delayMs: 5 },
  async run({ slots, emit, config, signal }) {
    await sleep(config.delayMs, undefined, { signal }); // slow enough to watch when live
    for (const { n } of slots.in) emit('out', { n: Number(n) ** 2 });
  },
});

const total = defineRoutine({
  name: 'total',
  slots: ['in'],
  events: { sum: ['value'] },
  policy: policies.batch(3),
  run({ slots, emit }) {
    emit('sum', { value: slots.in.reduce((sum, { n }) => sum + Number(n), 0) });
  },
});

const flow = createFlow('squares')
  .add('split', split)
  .add('square', square, { config: { delayMs: live ? 800 : 5 } })
  .add('total', total)
  .connect('split.part', 'square.in')
  .connect('square.out', 'total.in')
  .entry('split', 'trigger');

// --- the loopback relay -------------------------------------------------------------------------------------------

/** A port nobody listens on (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Resolves once the relay accepts connections: the inspector's client must not start before (see `stopAll`). */
async function listening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, 'localhost');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`nothing listens on port ${port}`);
}

const port = live ? Number(process.env.SLOTFLOW_INSPECT_PORT ?? 8080) : await freePort();
const url = `ws://localhost:${port}`;

// The relay's `stop()` leaves connected clients (a browser tab, a receiver) open, and they keep the process alive:
// track the connections it accepts, to end them when we are done.
const accepted = new Set<Socket>();
const track = (message: unknown) => {
  const { socket } = message as { socket: Socket };
  if (socket.localPort !== port) return;
  accepted.add(socket);
  socket.once('close', () => accepted.delete(socket));
};
subscribe('net.server.socket', track);

const server = createInspectorServer({ port, autoOpen: false });
await listening(port);

// What arrives at the relay, read back as the browser page would.
const names = new Map<string, string>(); // sessionId -> readable actor id
const received: StatelyInspectionEvent[] = [];
let jobDone: (() => void) | undefined;
createWebSocketReceiver({ server: url }).subscribe((event) => {
  received.push(event);
  if (event.type === '@xstate.actor') names.set(event.sessionId, event.name);
  // A job's supervisor ends in its final status and is then stopped: that stop is the job's last inspection event.
  if (event.type === '@xstate.snapshot' && names.get(event.sessionId)?.startsWith('job:') && event.snapshot.status === 'stopped') jobDone?.();
});

const inspector = createWebSocketInspector({ url });
const runtime = createRuntime({ inspect: inspector.inspect });

/** Runs one job and waits until the relay has passed on its last inspection event. */
async function runJob(jobId: string): Promise<void> {
  received.length = 0;
  const relayed = new Promise<void>((resolve) => (jobDone = resolve));
  const state = await runtime.exec(flow, { params: { upTo: 3 }, jobId }).wait({ timeoutMs: 10_000 });
  await relayed;
  console.log(`Job ${jobId}: ${state.status}, total = ${JSON.stringify(state.outputs['total.sum'])}`);
}

/** Stops the inspector before the relay: once its socket errors, its client reconnects every 5 s, forever. */
async function stopAll(): Promise<void> {
  await runtime.shutdown();
  inspector.stop();
  server.stop();
  const closed = [...accepted].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
  for (const socket of accepted) socket.destroy();
  await Promise.all(closed);
  unsubscribe('net.server.socket', track);
}

/** One line per actor: what it received and the states it went through. */
function report(): void {
  console.log(`The receiver got ${received.length} inspection events about ${names.size} actors:`);
  for (const [sessionId, name] of [...names].sort(([, a], [, b]) => a.localeCompare(b))) {
    const events = new Map<string, number>();
    const states: string[] = [];
    for (const e of received) {
      if (e.sessionId !== sessionId) continue;
      if (e.type === '@xstate.event') events.set(e.event.type, (events.get(e.event.type) ?? 0) + 1);
      if (e.type === '@xstate.snapshot') {
        const value = JSON.stringify((e.snapshot as { value?: unknown }).value).replaceAll('"', '');
        if (states.at(-1) !== value) states.push(value);
      }
    }
    const counts = [...events].map(([type, n]) => (n > 1 ? `${type} x${n}` : type)).join(', ');
    console.log(`  ${name.padEnd(22)} events: ${counts}`);
    console.log(`  ${''.padEnd(22)} states: ${states.join(' -> ')}`);
  }
}

if (!live) {
  console.log(`Inspector relay on ${url}`);
  await runJob('demo-1');
  report();
  console.log('');
  console.log('To watch it live in your browser:');
  console.log('  1. SLOTFLOW_INSPECT=1 npx tsx examples/11-inspect.ts   (relay on port 8080; SLOTFLOW_INSPECT_PORT=N for another)');
  console.log('  2. open http://localhost:8080 (the page loads the inspector UI from https://stately.ai/inspect)');
  console.log('  3. press Enter in the terminal to run a job; each job shows up as job:<id> and routine:<id>:<routine>');
  console.log('  4. Ctrl-C (or Ctrl-D) to stop');
  await stopAll();
} else {
  console.log(`Inspector relay on ${url}: open http://localhost:${port} in your browser`);
  console.log('(the page loads the inspector UI from https://stately.ai/inspect; the relay replays its last 200 events)');
  console.log('Press Enter to run a job, Ctrl-C or Ctrl-D to stop.');
  const lines = createInterface({ input: process.stdin });
  let count = 0;
  let busy = Promise.resolve();
  lines.on('line', () => {
    busy = busy.then(() => runJob(`demo-${++count}`));
  });
  const quit = () => {
    lines.close();
  };
  process.once('SIGINT', quit);
  await new Promise((resolve) => lines.once('close', resolve));
  await busy;
  await stopAll();
}
