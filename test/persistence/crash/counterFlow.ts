/**
 * The flow of the crash test: one routine counting to 30 through a bounded self-loop. Each activation appends
 * `work:<i>` to a side-effect file, so the test can count how often every step ran across the crash.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFlow, defineRoutine } from 'slotflow';

export const LAST = 30;

/**
 * `holdAt`: the step that never ends (the child is killed in it), so the child cannot finish the job by itself before
 * the parent's kill lands, however slow or fast the machine is.
 */
export function counterFlow(sideEffects: string, stepMs: number, holdAt?: number) {
  const work = defineRoutine({
    name: 'work',
    slots: ['in'],
    events: { next: ['i'] },
    async run({ slots, emit }) {
      for (const { i } of slots.in as { i: number }[]) {
        appendFileSync(sideEffects, `work:${String(i)}\n`);
        if (i === holdAt) await new Promise<never>(() => undefined);
        if (stepMs > 0) await sleep(stepMs); // simulated I/O, in the child process only
        emit('next', { i: i + 1 });
      }
    },
  });
  return createFlow('counter').add('work', work).connect('work.next', 'work.in', { maxIterations: 100, until: (p) => (p as { i: number }).i >= LAST });
}
