/**
 * The routine definitions that examples/08-manifest/flow.yaml names by `type`. This module exports routine
 * definitions only, so the CLI can register all of them:
 *
 *   slotflow run examples/08-manifest/flow.yaml --routines examples/08-manifest/routines.ts --params '{}'
 */
import { defineRoutine } from 'slotflow';

/** Emits the numbers 1..count, each labelled. */
export const numbers = defineRoutine({
  name: 'numbers',
  slots: ['start'],
  events: { number: ['value', 'label'] },
  config: { count: 3, label: 'numbers' },
  run({ slots, config, emit }) {
    for (const _ of slots.start) for (let value = 1; value <= config.count; value++) emit('number', { value, label: config.label });
  },
});

/** Sums what each activation consumed (with a `batch` policy: each batch). */
export const summer = defineRoutine({
  name: 'summer',
  slots: ['input'],
  events: { sum: ['value', 'of'] },
  run({ slots, emit }) {
    const values = slots.input.map((p) => Number(p.value));
    emit('sum', { value: values.reduce((a, b) => a + b, 0), of: values });
  },
});

/** Halves each value it gets, counting the steps; a cycle feeds the result back until it is small enough. */
export const halver = defineRoutine({
  name: 'halver',
  slots: ['input'],
  events: { next: ['value', 'steps'] },
  run({ slots, emit }) {
    for (const p of slots.input) emit('next', { value: Number(p.value) / 2, steps: (typeof p.steps === 'number' ? p.steps : 0) + 1 });
  },
});
