/**
 * Routine definitions shared by the manifest tests.
 */
import { defineRoutine, event, slot } from 'slotflow';

export const fetcher = defineRoutine({
  name: 'fetcher',
  slots: ['trigger'],
  events: { output: ['data', 'source'] },
  config: { sourceName: 'Source', retries: 3, verbose: false, url: 'http://localhost' },
  run({ slots, config, emit }) {
    for (const p of slots.trigger) emit('output', { data: `${config.sourceName}:${String(p.n)}`, source: config.sourceName });
  },
});

export const collector = defineRoutine({
  name: 'collector',
  slots: ['input'],
  events: { collected: ['items'] },
  run({ slots, emit }) {
    emit('collected', { items: slots.input.map((p) => p.data) });
  },
});

export const joiner = defineRoutine({
  name: 'joiner',
  slots: ['left', 'right'],
  events: { joined: ['left', 'right'] },
  run({ slots, emit }) {
    emit('joined', { left: slots.left.map((p) => p.data), right: slots.right.map((p) => p.data) });
  },
});

export interface Step {
  n: number;
  converged: boolean;
}

/** Counts up by one per activation; `converged` once n reaches `target`. */
export const counter = defineRoutine({
  name: 'counter',
  slots: { input: slot<Step>() },
  events: { next: event<Step>(['n', 'converged']) },
  config: { target: 5 },
  run({ slots, config, emit }) {
    for (const { n } of slots.input) emit('next', { n: n + 1, converged: n + 1 >= config.target });
  },
});
