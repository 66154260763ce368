/**
 * The hot path's shortcuts change nothing a user can see. By default the runtime reuses finished jobs' routine
 * actors and supervisors (a fresh routine actor is not even reset) and routes emissions by a direct call while the
 * supervisor is running; with `reuseActors: 0` every job gets new actors; with `inspect` every job gets new actors
 * and every emission goes through the supervisor as an event. The same random flows, run for several jobs in a
 * row on one runtime of each kind, must give the same jobs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRuntime, type JobState } from 'slotflow';
import { buildDag, dagSpec, runDagJob, type DagSpec } from '../helpers/dag.js';

/** What a user sees of a job, without its ids and clock times. */
function observable(state: JobState) {
  return {
    status: state.status,
    outputs: state.outputs,
    routines: state.routines,
    history: state.history.map(({ routineId, attempt, consumed, emitted, outcome }) => ({ routineId, attempt, consumed, emitted, outcome })),
  };
}

async function runJobs(spec: DagSpec, jobs: number, options: Parameters<typeof createRuntime>[0]) {
  const { flow, counts } = buildDag(spec);
  const runtime = createRuntime({ concurrency: spec.concurrency, historyLimit: 100_000, ...options });
  const states = [];
  for (let i = 0; i < jobs; i++) states.push(observable(await runDagJob(runtime, flow, spec, counts)));
  await runtime.shutdown();
  return states;
}

describe('property: actor reuse and direct routing are invisible', () => {
  it('the same flows give the same jobs with reuse (default), without it (reuseActors: 0) and under inspect', async () => {
    await fc.assert(
      fc.asyncProperty(dagSpec, fc.integer({ min: 2, max: 4 }), async (spec, jobs) => {
        const reused = await runJobs(spec, jobs, {});
        const fresh = await runJobs(spec, jobs, { reuseActors: 0 });
        const inspected = await runJobs(spec, jobs, { inspect: () => undefined });
        for (const state of reused) expect(state.status).toBe('completed');
        expect(reused).toEqual(fresh);
        expect(reused).toEqual(inspected);
      }),
      { numRuns: 40 },
    );
  });
});
