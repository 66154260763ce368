/**
 * The runtime, end to end: register a flow, exec it with params, wait, then inspect the job.
 *
 * The routine's output is connected back to its own input: a cycle. Every cycle is bounded on its closing edge
 * (`maxIterations`) and may stop early on a convergence guard (`until`); the job state records it in `cycles`.
 * `exec` returns at once (status `running`), `getJob` returns the same handle, and `listJobs` filters by status
 * or flow.
 */
import { createFlow, createRuntime, defineRoutine, event, slot } from 'slotflow';

interface Step {
  text: string;
  depth: number;
}

const processor = defineRoutine({
  name: 'processor',
  slots: { input: slot<Step>() },
  events: { output: event<Step>(['text', 'depth']), result: ['text'] },
  run({ slots, emit }) {
    for (const { text, depth } of slots.input) {
      const processed = `Processed(${text})`;
      emit('result', { text: processed }); // not connected: collected in outputs['processor.result']
      emit('output', { text: processed, depth: depth + 1 }); // loops back to processor.input
    }
  },
});

const flow = createFlow('demo')
  .add('processor', processor)
  .connect('processor.output', 'processor.input', {
    maxIterations: 10,
    until: (payload) => payload.depth >= 3,
  });

await using runtime = createRuntime({ concurrency: 5 });
runtime.register(flow);

const job = runtime.exec('demo', { params: { text: 'test', depth: 0 } });
console.log(`Status right after exec: ${job.status}`); // exec does not wait: wait before reading results

const state = await job.wait({ timeoutMs: 10_000 });
console.log(`Final status: ${state.status}`);
for (const [edge, { iterations, converged }] of Object.entries(state.cycles)) {
  console.log(`Cycle ${edge}: ${iterations} iterations, converged: ${String(converged)}`);
}
for (const { text } of state.outputs['processor.result'] ?? []) console.log(`Result: ${String(text)}`);

console.log(`getJob(job.id) is the same handle: ${String(runtime.getJob(job.id) === job)}`);
console.log(`listJobs(): ${runtime.listJobs().length} job(s)`);
console.log(`listJobs({ status: 'completed' }): ${runtime.listJobs({ status: 'completed' }).length} job(s)`);
console.log(`listJobs({ flowId: 'other' }): ${runtime.listJobs({ flowId: 'other' }).length} job(s)`);
