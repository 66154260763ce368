/**
 * Parallel fetching inside one job: a `start` routine fans out to three fetchers, which all feed one collector.
 *
 * The fetchers are independent, so the runtime runs them at once: each waits 100 ms, and the job takes about
 * 0.1 s, not 0.3 s. One event may fan out to many slots, and many events may feed one slot; the collector's
 * `batch(3)` policy makes it fire once, with all three results.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFlow, createRuntime, defineRoutine, event, policies, slot } from 'slotflow';

interface Fetched {
  data: string;
  source: string;
}

const start = defineRoutine({
  name: 'start',
  slots: ['trigger'],
  events: { go: [] },
  run({ emit }) {
    emit('go', {});
  },
});

const fetcher = defineRoutine({
  name: 'fetcher',
  slots: ['trigger'],
  events: { output: event<Fetched>(['data', 'source']) },
  config: { sourceName: 'Source', delayMs: 100 },
  async run({ config, emit, signal }) {
    await sleep(config.delayMs, undefined, { signal }); // simulated network delay
    const data = `Data from ${config.sourceName}`;
    console.log(`Fetched: ${data}`);
    emit('output', { data, source: config.sourceName });
  },
});

const collector = defineRoutine({
  name: 'collector',
  slots: { input: slot<Fetched>() },
  run({ slots }) {
    for (const { data, source } of slots.input) console.log(`Collected: ${data} from ${source}`);
  },
});

const flow = createFlow('fetch_flow')
  .add('start', start)
  .add('fetcher0', fetcher, { config: { sourceName: 'Source0' } })
  .add('fetcher1', fetcher, { config: { sourceName: 'Source1' } })
  .add('fetcher2', fetcher, { config: { sourceName: 'Source2' } })
  .add('collector', collector, { policy: policies.batch(3) })
  .connect('start.go', 'fetcher0.trigger')
  .connect('start.go', 'fetcher1.trigger')
  .connect('start.go', 'fetcher2.trigger')
  .connect('fetcher0.output', 'collector.input')
  .connect('fetcher1.output', 'collector.input')
  .connect('fetcher2.output', 'collector.input')
  .entry('start', 'trigger');

await using runtime = createRuntime({ concurrency: 5 });
console.log('Starting parallel data fetching...');
const started = performance.now();
const state = await runtime.exec(flow, { params: {} }).wait({ timeoutMs: 5_000 });
const elapsed = (performance.now() - started) / 1000;

console.log(`Status: ${state.status}`);
console.log(`Total time: ${elapsed.toFixed(2)}s`);
assert.ok(elapsed >= 0.09 && elapsed < 0.25, `took ${elapsed.toFixed(3)}s, expected about 0.1s`);
