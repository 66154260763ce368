/**
 * Sequential vs concurrent: the runtime's `concurrency` caps how many activations run at once, across all jobs.
 *
 * Three jobs of a routine that waits 200 ms take about 0.6 s with `concurrency: 1` (one activation at a time)
 * and about 0.2 s with `concurrency: 5` (all three at once). Each runtime is disposed by `await using`.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFlow, createRuntime, defineRoutine } from 'slotflow';

const slowOperation = defineRoutine({
  name: 'slowOperation',
  slots: ['trigger'],
  events: { output: ['result'] },
  config: { name: 'Operation', delayMs: 200 },
  async run({ config, emit, signal }) {
    await sleep(config.delayMs, undefined, { signal }); // simulated I/O
    const result = `${config.name} completed`;
    console.log(result);
    emit('output', { result });
  },
});

const flow = createFlow('io_flow').add('op', slowOperation);

/** Runs three jobs on a runtime with the given concurrency; returns the elapsed seconds. */
async function runThreeJobs(concurrency: number): Promise<number> {
  await using runtime = createRuntime({ concurrency });
  runtime.register(flow);
  const started = performance.now();
  for (let i = 1; i <= 3; i++) runtime.exec('io_flow', { params: { run: i } });
  await runtime.waitForAll({ timeoutMs: 5_000 });
  return (performance.now() - started) / 1000;
}

console.log('=== Sequential (concurrency: 1) ===');
const sequential = await runThreeJobs(1);
console.log(`Time with concurrency 1: ${sequential.toFixed(2)}s`);

console.log('=== Concurrent (concurrency: 5) ===');
const concurrent = await runThreeJobs(5);
console.log(`Time with concurrency 5: ${concurrent.toFixed(2)}s`);

assert.ok(sequential >= 0.55, `sequential run took ${sequential.toFixed(3)}s, expected about 0.6s`);
assert.ok(concurrent < 0.45, `concurrent run took ${concurrent.toFixed(3)}s, expected about 0.2s`);
console.log(`Speed-up: ${(sequential / concurrent).toFixed(1)}x`);
