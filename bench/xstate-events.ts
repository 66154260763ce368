/**
 * Counts the XState events one job of the chain workload sends to its actors (5 routines in a line, trivial
 * steps), by actor kind and event type, from the built package: `node --import tsx bench/xstate-events.ts`
 * (`npm run build` first). It wraps `Actor.prototype._process`, XState's internal per-event entry point, before
 * any actor exists; a figure of BENCHMARKS.md ("Where slotflow's time goes") comes from here.
 */
import { createRequire } from 'node:module';
import { chainFlow } from './lib/chainFlow.js';

// The library's own copy of XState (bench/node_modules may hold another one, for the peers).
const require = createRequire(new URL('../package.json', import.meta.url));
const xstate = require('xstate') as { Actor: { prototype: { _process: (this: { id: string }, event: { type: string }) => void } } };
type Slotflow = typeof import('slotflow');
const sf = (await import(new URL('../dist/index.js', import.meta.url).href)) as Slotflow;

const counts = new Map<string, number>();
let counting = false;
const process_ = xstate.Actor.prototype._process;
xstate.Actor.prototype._process = function (this: { id: string }, event: { type: string }) {
  if (counting) {
    const key = `${this.id.split(':')[0] ?? '?'} ${event.type.startsWith('slot.') ? 'slot.<name>' : event.type}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  process_.call(this, event);
};

const flow = chainFlow(sf, 'chain', 5);

const inspect = process.argv.includes('--inspect');
const runtime = sf.createRuntime(inspect ? { inspect: () => undefined } : {});
// The first jobs create the actors the next ones reuse: count steady-state jobs.
for (let i = 0; i < 3; i++) await runtime.exec(flow, { params: { n: 0 } }).wait();
const jobs = 100;
counting = true;
for (let i = 0; i < jobs; i++) await runtime.exec(flow, { params: { n: 0 } }).wait();
await new Promise((resolve) => setImmediate(resolve));
counting = false;
await runtime.shutdown();

let total = 0;
console.log(`XState events per job (chain, 5 routines${inspect ? ', with inspect' : ''}):`);
for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1])) {
  total += n;
  console.log(`  ${(n / jobs).toFixed(1).padStart(5)}  ${key}`);
}
console.log(`  ${(total / jobs).toFixed(1).padStart(5)}  total`);
