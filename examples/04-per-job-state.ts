/**
 * Per-job state: a routine's `state` belongs to the job, not to the routine definition.
 *
 * A trigger routine feeds a counter that increments its `state.count` with `setState` (an immer recipe). Five jobs
 * of the same flow run at once, and each job's counter ends at 1: one definition serves every job, and no job sees
 * another's state.
 */
import assert from 'node:assert/strict';
import { createFlow, createRuntime, defineRoutine } from 'slotflow';

const trigger = defineRoutine({
  name: 'trigger',
  slots: ['trigger'],
  events: { output: ['data'] },
  run({ emit }) {
    emit('output', { data: 'tick' });
  },
});

interface CounterState {
  count: number;
}

const counter = defineRoutine({
  name: 'counter',
  slots: ['input'],
  initialState: { count: 0 },
  run({ state, setState }) {
    const count = state.count + 1;
    setState((draft) => {
      draft.count = count;
    });
    console.log(`Count: ${count}`);
  },
});

const flow = createFlow('counter_flow')
  .add('trigger', trigger)
  .add('counter', counter)
  .connect('trigger.output', 'counter.input'); // entry: the first routine added, its first slot

await using runtime = createRuntime({ concurrency: 5 });
runtime.register(flow);
const jobs = Array.from({ length: 5 }, () => runtime.exec('counter_flow', { params: {} }));
const states = await Promise.all(jobs.map((job) => job.wait({ timeoutMs: 5_000 })));

// A job's state holds every routine's `state` as `unknown`: we know what the counter keeps there.
const counts = states.map((state) => (state.routines.counter?.state as CounterState | undefined)?.count);
console.log(`Final counts: ${counts.join(', ')}`);
assert.deepEqual(counts, [1, 1, 1, 1, 1]);
