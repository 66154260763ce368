/**
 * The process the crash test kills: runs the counter job with a file store and tells the parent how far it got
 * (after the checkpoint of each step is on disk).
 * Usage: child.ts <store dir> <side-effect file> <step to hold in>
 */
import { createFileStore, createRuntime } from 'slotflow';
import { counterFlow } from './counterFlow.js';

const [dir, sideEffects, holdAt] = process.argv.slice(2) as [string, string, string];
const runtime = createRuntime({ store: createFileStore(dir) });
const job = runtime.exec(counterFlow(sideEffects, 5, Number(holdAt)), { jobId: 'counter-1', params: { i: 0 } });
job.events$.subscribe((event) => {
  if (event.type !== 'routine.completed') return;
  // Steps finished so far; once checkpoint() resolves, all of them are on disk.
  const completed = job.state.history.length;
  void job.checkpoint().then(() => process.send?.({ completed }));
});
