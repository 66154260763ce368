/**
 * The persistence tests' flow: a chain a -> b -> c whose steps record their calls (`'b:2'`) and can be held at a
 * deferred, so a test can snapshot a job with an activation in flight.
 */
import { createFlow, defineRoutine } from 'slotflow';
import type { Deferred } from '../helpers/deferred.js';

export function chain() {
  const calls: string[] = [];
  const holds = new Map<string, Deferred>();
  const step = (name: string) =>
    defineRoutine({
      name,
      slots: ['in'],
      events: { out: ['n'] },
      async run({ slots, emit }) {
        for (const { n } of slots.in as { n: number }[]) {
          calls.push(`${name}:${String(n)}`);
          await holds.get(name)?.promise;
          emit('out', { n: n + 1 });
        }
      },
    });
  const flow = createFlow('chain').add('a', step('a')).add('b', step('b')).add('c', step('c')).connect('a.out', 'b.in').connect('b.out', 'c.in');
  return { flow, calls, holds };
}
