/**
 * Flows for the slotflow/rx tests: `gatedWork` holds each activation at a gate (keyed by the job's `v` param) so a
 * test decides when and in which order jobs finish; `collector` gathers what is posted into a keepAlive job (its
 * activations held at a gate, when one is given, so that its slot fills up).
 */
import { createFlow, defineRoutine } from 'slotflow';
import type { Gate } from '../helpers/deferred.js';

export function gatedWork(gate: Gate<number>, id = 'work') {
  const work = defineRoutine({
    name: 'work',
    slots: ['in'],
    events: { done: ['v'] },
    async run({ slots, emit, signal }) {
      for (const { v, fail } of slots.in) {
        await gate.enter(Number(v), signal);
        if (fail === true) throw new Error(`work ${String(v)} failed`);
        emit('done', { v });
      }
    },
  });
  return createFlow(id).add('work', work);
}

export function collector(id = 'collect', options: { readonly maxQueue?: number; readonly gate?: Gate<number> } = {}) {
  const { gate, maxQueue } = options;
  let activation = 0;
  const collect = defineRoutine({
    name: 'collect',
    slots: ['item'],
    events: { seen: ['x'] },
    ...(maxQueue === undefined ? {} : { maxQueue }),
    async run({ slots, emit, signal }) {
      // With a gate, each activation waits there (keyed by its number, from 1) before reporting what it took.
      if (gate) await gate.enter(++activation, signal);
      for (const { x } of slots.item) emit('seen', { x });
    },
  });
  return createFlow(id).add('collect', collect);
}

/** Statuses of a job that has not ended. */
export const UNFINISHED = ['queued', 'running', 'paused', 'idle'] as const;
