/**
 * The `slotflow` executable (bin): `slotflow run | validate | graph`. See program.ts.
 */
import { runCli } from './program.js';

// `slotflow run ... | head`: a reader that went away is not an error of ours; stop writing, keep running.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// A routine module may leave a timer or a socket open: it must not keep a finished command alive.
setTimeout(() => process.exit(code), 1_000).unref();
