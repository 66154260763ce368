/**
 * A cyclic workflow: an optimizer routine feeds each improved value back to itself until it converges.
 *
 * Each activation takes one gradient-descent step on f(x) = (x - 3)^2. The closing edge bounds the loop with
 * `maxIterations: 100` and stops it with `until: (p) => p.converged`: the converged payload is not delivered back,
 * and the job state records `cycles['optimizer.next->optimizer.input'] = { iterations, converged }`, where
 * `iterations` counts deliveries over the edge. A second run bounded at 20 shows an exhausted cycle: recorded
 * (`converged: false`), not an error.
 */
import { createFlow, createRuntime, defineRoutine, event, slot } from 'slotflow';

interface Point {
  value: number;
  step: number;
  converged: boolean;
}

const optimizer = defineRoutine({
  name: 'optimizer',
  slots: { input: slot<Point>() },
  events: {
    next: event<Point>(['value', 'step', 'converged']),
    result: event<{ value: number; steps: number }>(['value', 'steps']), // not connected: the flow's result
  },
  config: { target: 3, learningRate: 0.1, tolerance: 1e-6 },
  run({ slots, config, emit }) {
    for (const { value, step } of slots.input) {
      const delta = -config.learningRate * 2 * (value - config.target);
      const next = { value: value + delta, step: step + 1, converged: Math.abs(delta) < config.tolerance };
      emit('next', next);
      if (next.converged) emit('result', { value: next.value, steps: next.step });
    }
  },
});

const optimization = (maxIterations: number) =>
  createFlow(`optimization_${maxIterations}`)
    .add('optimizer', optimizer)
    .connect('optimizer.next', 'optimizer.input', { maxIterations, until: (p) => p.converged });

await using runtime = createRuntime();
for (const maxIterations of [100, 20]) {
  const job = runtime.exec(optimization(maxIterations), { params: { value: 0.1, step: 0, converged: false } });
  const state = await job.wait({ timeoutMs: 5_000 });
  const cycle = state.cycles['optimizer.next->optimizer.input'];
  const [result] = state.outputs['optimizer.result'] ?? [];
  console.log(`=== maxIterations: ${maxIterations} ===`);
  console.log(`Status: ${state.status}`);
  console.log(`Optimizer activations: ${state.routines.optimizer?.activations ?? 0}`);
  console.log(`Cycle iterations: ${cycle?.iterations ?? 0}, converged: ${String(cycle?.converged)}`);
  console.log(result ? `Converged value: ${result.value.toFixed(4)} after ${String(result.steps)} steps` : 'No converged value');
}
