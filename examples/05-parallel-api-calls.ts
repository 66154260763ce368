/**
 * Parallel API calls with error handling: five API callers feed one aggregator, and one API is down.
 *
 * With `flow.onError('continue')` a failed activation is recorded (`routines[id].errors`, history, a
 * `routine.failed` event) and the job goes on with the other calls. The aggregator appends each response to the
 * job's shared `log`. InventoryAPI always fails here, so the output is the same on every run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createFlow, createRuntime, defineRoutine, event, slot } from 'slotflow';

interface ApiResponse {
  response: string;
  apiName: string;
}

const start = defineRoutine({
  name: 'start',
  slots: ['trigger'],
  events: { go: [] },
  run({ emit }) {
    emit('go', {});
  },
});

const apiCaller = defineRoutine({
  name: 'apiCaller',
  slots: ['trigger'],
  events: { output: event<ApiResponse>(['response', 'apiName']) },
  config: { apiName: 'API', delayMs: 50, available: true },
  async run({ config, emit, signal }) {
    await sleep(config.delayMs, undefined, { signal }); // simulated network delay
    if (!config.available) throw new Error(`${config.apiName} temporarily unavailable`);
    const response = `Response from ${config.apiName}`;
    console.log(response);
    emit('output', { response, apiName: config.apiName });
  },
});

const aggregator = defineRoutine({
  name: 'aggregator',
  slots: { input: slot<ApiResponse>() },
  run({ slots, log }) {
    for (const { response, apiName } of slots.input) log({ api: apiName, response });
  },
});

// Staggered delays keep the order of the responses stable from run to run.
const flow = createFlow('api_flow')
  .add('start', start)
  .add('UsersAPI', apiCaller, { config: { apiName: 'UsersAPI', delayMs: 20 } })
  .add('OrdersAPI', apiCaller, { config: { apiName: 'OrdersAPI', delayMs: 40 } })
  .add('ProductsAPI', apiCaller, { config: { apiName: 'ProductsAPI', delayMs: 60 } })
  .add('InventoryAPI', apiCaller, { config: { apiName: 'InventoryAPI', delayMs: 80, available: false } })
  .add('AnalyticsAPI', apiCaller, { config: { apiName: 'AnalyticsAPI', delayMs: 100 } })
  .add('aggregator', aggregator)
  .connect('start.go', 'UsersAPI.trigger')
  .connect('start.go', 'OrdersAPI.trigger')
  .connect('start.go', 'ProductsAPI.trigger')
  .connect('start.go', 'InventoryAPI.trigger')
  .connect('start.go', 'AnalyticsAPI.trigger')
  .connect('UsersAPI.output', 'aggregator.input')
  .connect('OrdersAPI.output', 'aggregator.input')
  .connect('ProductsAPI.output', 'aggregator.input')
  .connect('InventoryAPI.output', 'aggregator.input')
  .connect('AnalyticsAPI.output', 'aggregator.input')
  .entry('start', 'trigger')
  .onError('continue');

await using runtime = createRuntime({ concurrency: 10 });
console.log('Starting parallel API calls...');
const job = runtime.exec(flow, { params: {} });
const state = await job.wait({ timeoutMs: 5_000 });

console.log(`\nStatus: ${state.status}`);
for (const api of ['UsersAPI', 'OrdersAPI', 'ProductsAPI', 'InventoryAPI', 'AnalyticsAPI']) {
  console.log(`${api}: ${state.routines[api]?.errors ?? 0} error(s)`);
}
for (const record of state.history.filter((r) => r.outcome === 'error')) {
  console.log(`Failed: ${record.routineId}: ${record.error?.message ?? 'unknown error'}`);
}
for (const entry of state.log) console.log(`Logged: ${JSON.stringify(entry)}`);
console.log(`Total responses: ${state.log.length}`);
