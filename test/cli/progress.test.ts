/**
 * The live progress bar of `slotflow run` counts activations, not only whole jobs: a single long job moves the bar
 * as its routines report `routine.progress` ({ done, total }), and activations done and running are shown. Driven
 * by events, rendered to a stream that says it is a terminal; read after `stop()`, which draws the final state.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JobEvent, JobState } from 'slotflow';
import { createProgress } from '../../src/cli/Progress.js';

function terminal() {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 400 });
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

/** The bar as last drawn: each redraw starts at column 1 (ESC [ 1 G). */
const lastDrawn = (text: string) => text.split('\u001b[1G').at(-1) ?? '';

const base = { jobId: 'job-1', flowId: 'f', at: 0 };
const started = (routineId: string) => ({ ...base, type: 'routine.started', routineId, attempt: 1 }) as JobEvent;
const completed = (routineId: string) => ({ ...base, type: 'routine.completed', routineId, attempt: 1, durationMs: 1 }) as JobEvent;
// Not a type this runtime declares yet: matched by its type string.
const progressed = (routineId: string, done: unknown, total: unknown) => ({ ...base, type: 'routine.progress', routineId, done, total }) as unknown as JobEvent;

describe('slotflow run progress', () => {
  it('moves a single job along with its routines reported progress, counting activations done and running', () => {
    const out = terminal();
    const progress = createProgress({ total: 1, stream: out.stream, live: true, lines: out.stream });
    progress.event(started('fetch'));
    progress.event(completed('fetch'));
    progress.event(started('score'));
    progress.event(progressed('score', 3, 4));
    progress.stop();

    expect(progress.activations).toBe(1);
    const last = lastDrawn(out.text());
    expect(last).toContain('jobs ');
    expect(last).toContain(' 0/1 | activations: 1 done, 1 running (75% of the running jobs)');
    // The bar itself is three quarters full (shades_classic: a full cell is U+2588).
    const bar = /jobs (\S+) 0\/1/.exec(last)?.[1] ?? '';
    expect(bar.length).toBe(40);
    expect(bar.match(/\u2588/g)).toHaveLength(30);
  });

  it('ignores malformed progress events and those of activations it did not see start', () => {
    const out = terminal();
    const progress = createProgress({ total: 2, stream: out.stream, live: true, lines: out.stream });
    progress.event(started('score'));
    for (const [done, total] of [[1, 0], ['1', 2], [Number.NaN, 2], [1, Number.POSITIVE_INFINITY], [undefined, 2]]) progress.event(progressed('score', done, total));
    progress.event(progressed('other', 1, 2));
    progress.event(progressed('score', 9, 4)); // clamped to 100% of the activation
    progress.job({ jobId: 'job-2', status: 'completed', startedAt: 0, finishedAt: 5 } as JobState);
    progress.stop();

    const last = lastDrawn(out.text());
    expect(last).toContain(' 1/2 | activations: 0 done, 1 running (100% of the running jobs)');
    expect(last).toContain('1 completed, 0 failed, 0 cancelled');
  });

  it('prints one plain line per job when not on a terminal, suspended jobs included, with odd ids escaped', () => {
    const out = terminal();
    const progress = createProgress({ total: 2, stream: out.stream, live: false, lines: out.stream });
    progress.job({ jobId: 'a\u001b[2Jb', status: 'completed', startedAt: 0, finishedAt: 7 } as JobState);
    progress.job({ jobId: 'c', status: 'running', startedAt: 0 } as JobState, 'suspended');
    progress.stop();

    expect(out.text()).toBe('[1/2] job a\\u001b[2Jb completed in 7 ms\n[2/2] job c suspended (kept in the store, status running)\n');
    expect(progress.counts).toEqual({ completed: 1, failed: 0, cancelled: 0, suspended: 1 });
  });
});
