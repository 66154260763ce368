/**
 * Quick start (the README's): a fetcher routine feeds a collector, one job runs the flow, and we read its results.
 *
 * Shows defineRoutine (slots, events, config, run), createFlow (add, connect, entry), createRuntime, exec and
 * wait, and where a flow's results land: payloads of events with no connection are collected in `outputs`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createFlow, createRuntime, defineRoutine } from 'slotflow';

const fetcher = defineRoutine({
  name: 'fetcher',
  slots: ['trigger'],
  events: { output: ['data', 'source'] },
  config: { sourceName: 'Source', delayMs: 50 },
  async run({ config, emit, signal }) {
    await sleep(config.delayMs, undefined, { signal }); // stands in for a network call
    emit('output', { data: `Data from ${config.sourceName}`, source: config.sourceName });
  },
});

const collector = defineRoutine({
  name: 'collector',
  slots: ['input'],
  events: { collected: ['item'] },
  run({ slots, emit }) {
    for (const { data } of slots.input) emit('collected', { item: data });
  },
});

const flow = createFlow('quick_start')
  .add('fetcher', fetcher, { config: { sourceName: 'Source0' } })
  .add('collector', collector)
  .connect('fetcher.output', 'collector.input') // checked by the compiler
  .entry('fetcher', 'trigger');

await using runtime = createRuntime({ concurrency: 10 });
const state = await runtime.exec(flow, { params: { request: 'latest' } }).wait({ timeoutMs: 5_000 });

console.log(`Outputs: ${JSON.stringify(state.outputs)}`);
console.log(`Status: ${state.status}`);
