/**
 * The `slotflow` command line: `run`, `validate` and `graph` over flow manifests (commander). Returns the exit code:
 * 0 success, 1 a job did not complete or the input is invalid, 2 a bad command line, 130 / 143 interrupted
 * (SIGINT / SIGTERM).
 */
import { Command, CommanderError } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { CliError, messageOf } from './CliError.js';
import { directory, nonNegativeInteger, params, port, positiveInteger } from './parseOptions.js';
import type { RunOptions } from './runCommand.js';
import type { ServeOptions } from './serveCommand.js';

// The commands load the runtime when they run, so `--help`, `--version` and a bad flag answer at once.
const commands = () => import('./commands.js');

/** Errors whose message lists every problem: printed as they are (`name` is the class name). */
const LISTS_PROBLEMS = new Set(['ManifestError', 'FlowValidationError']);

export async function runCli(argv: readonly string[]): Promise<number> {
  const { stdout, stderr } = process;
  // A command's action sets the exit code; commander's own errors (a bad flag, --help) are thrown and mapped below.
  let code = 0;
  const setCode = (value: number) => {
    code = value;
  };
  const program = new Command('slotflow')
    .description('Run, check and draw slotflow flow manifests.')
    .version(pkg.version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
    })
    .exitOverride();
  addRun(program, setCode);
  addValidate(program);
  addGraph(program);
  addServe(program, setCode);
  addWorker(program, setCode);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    return reportError(error);
  }
}

/** Prints what went wrong as the user needs to read it and returns the exit code (see the top of this file). */
function reportError(error: unknown): number {
  const { stderr } = process;
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof CliError) {
    stderr.write(`slotflow: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && LISTS_PROBLEMS.has(error.name)) {
    stderr.write(`${error.message}\n`);
    return 1;
  }
  // slotflow's own errors (a `code`) say what was wrong; anything else gets its stack.
  const own = error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
  stderr.write(`slotflow: ${own ? `${error.name}: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : messageOf(error)}\n`);
  return 1;
}

// One function per command: each holds its flags, help text and action, read together.

/** `slotflow run`: see runCommand.ts. */
function addRun(program: Command, setCode: (code: number) => void): void {
  program
    .command('run')
    .description("Run jobs of a manifest's flow, show progress, print a per-routine summary.")
    .argument('<manifest>', 'the flow manifest (YAML or JSON)')
    .requiredOption('--routines <module>', 'module whose exported routine definitions the manifest names by type (.js, .mjs, or .ts with tsx installed)')
    .option('--params <json|@file>', "the entry slot's payload, a JSON object inline or in a file (default: {})", params)
    .option('--concurrency <n>', 'activations running at once, across all jobs', positiveInteger, 10)
    .option('--jobs <n>', 'how many new jobs to run (0: only resume what --store holds)', nonNegativeInteger, 1)
    .option('--threads <n>', "worker threads computing at once for routines with isolation 'thread' (default: the CPU count)", positiveInteger)
    .option('--store <dir>', 'checkpoint jobs in this directory (a file store); unfinished jobs found there are resumed first, and Ctrl-C keeps the running ones there', directory)
    .option('--out <dir>', 'write each final job state (jobs/<jobId>.json) and the event log (events.jsonl) here', directory)
    .addHelpText(
      'after',
      '\nExit codes: 0 every job completed; 1 a job failed or was cancelled, or the manifest or module is invalid;\n' +
        '2 a bad command line; 130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM.\n' +
        '\nCtrl-C or SIGTERM with --store suspends the run: running activations are aborted and every unfinished job is\n' +
        'kept in the store, as it was, for the next run (--jobs 0 only resumes them). Without --store the jobs are\n' +
        'cancelled. Either way the summary and --out are written; a second Ctrl-C exits at once.\n' +
        '\nExample:\n  slotflow run flow.yaml --routines routines.ts --params \'{"url":"https://example.com"}\' --jobs 100 --out results',
    )
    .action(async (manifest: string, options: RunOptions) => {
      setCode(await (await commands()).runCommand(manifest, options));
    });
}

/** `slotflow validate`: prints every problem of the manifest, or one line saying what it holds. */
function addValidate(program: Command): void {
  const { stdout } = process;
  program
    .command('validate')
    .description('Check a manifest against the routines it names; print every problem.')
    .argument('<manifest>', 'the flow manifest (YAML or JSON)')
    .requiredOption('--routines <module>', 'module whose exported routine definitions the manifest names by type')
    .action(async (manifest: string, options: { routines: string }) => {
      const { loadManifestFlow } = await commands();
      const flow = (await loadManifestFlow(manifest, options.routines)).compile();
      const routines = flow.routines.size;
      const connections = flow.connections.length;
      const entry = flow.entry ? `, entry ${flow.entry.routine}.${flow.entry.slot}` : '';
      stdout.write(`valid: ${manifest}: flow '${flow.id}' (${routines} routine${routines === 1 ? '' : 's'}, ${connections} connection${connections === 1 ? '' : 's'}${entry})\n`);
    });
}

/** `slotflow graph`: the flow as Mermaid; without --routines, sketched from the manifest alone. */
function addGraph(program: Command): void {
  const { stdout } = process;
  program
    .command('graph')
    .description("Print the manifest's flow as a Mermaid flowchart.")
    .argument('<manifest>', 'the flow manifest (YAML or JSON)')
    .option('--routines <module>', "module of the routine definitions; without it, slots and events are those the manifest's connections name")
    .addHelpText('after', '\nPaste the output into https://mermaid.live, or a ```mermaid block in Markdown.')
    .action(async (manifest: string, options: { routines?: string }) => {
      const { loadManifestFlow, sketchManifestFlow } = await commands();
      const flow = options.routines === undefined ? sketchManifestFlow(manifest) : await loadManifestFlow(manifest, options.routines);
      stdout.write(`${flow.toMermaid()}\n`);
    });
}

/** `slotflow serve`: see serveCommand.ts. */
function addServe(program: Command, setCode: (code: number) => void): void {
  program
    .command('serve')
    .description("Serve the monitor and the HTTP API for a manifest's flow: watch, start and drive its jobs in a browser.")
    .argument('<manifest>', 'the flow manifest (YAML or JSON)')
    .requiredOption('--routines <module>', 'module whose exported routine definitions the manifest names by type')
    .option('--port <n>', 'the port to listen on (0: any free port)', port, 7400)
    .option('--host <host>', 'the interface to listen on; anything but loopback needs SLOTFLOW_TOKEN set', '127.0.0.1')
    .option('--concurrency <n>', 'activations running at once, across all jobs', positiveInteger, 10)
    .option('--store <dir>', 'checkpoint jobs in this directory: unfinished jobs are resumed at start and saved on Ctrl-C', directory)
    .addHelpText(
      'after',
      '\nWith SLOTFLOW_TOKEN set, every API request needs it (the page asks for it once).\n' +
        '\nExample:\n  slotflow serve flow.yaml --routines routines.ts --store .slotflow\n  # then open http://127.0.0.1:7400',
    )
    .action(async (manifest: string, options: ServeOptions) => {
      setCode(await (await commands()).serveCommand(manifest, options));
    });
}

/** `slotflow worker`: see workerCommand.ts; loaded apart from the other commands, as it needs bullmq and ioredis. */
function addWorker(program: Command, setCode: (code: number) => void): void {
  program
    .command('worker')
    .description('Run the flows of these manifests as a distributed worker on a Redis queue (BullMQ), until SIGTERM or Ctrl-C.')
    .argument('<manifest...>', 'the flow manifests (YAML or JSON) whose jobs this worker runs')
    .requiredOption('--routines <module>', 'module whose exported routine definitions the manifests name by type')
    .requiredOption('--redis <url>', 'the Redis server, redis://[user:password@]host:port[/db]')
    .option('--queue <name>', 'the queue to consume (producers use the same name)', 'slotflow')
    .option('--concurrency <n>', 'jobs this worker holds at once', positiveInteger, 10)
    .addHelpText('after', '\nSIGTERM or Ctrl-C: running jobs are checkpointed and handed back to the queue, then the worker exits 0.\n\nExample:\n  slotflow worker flow.yaml --routines routines.ts --redis redis://127.0.0.1:6379 --queue orders')
    .action(async (manifests: string[], options: import('./workerCommand.js').WorkerCommandOptions) => {
      setCode(await (await import('./workerCommand.js')).workerCommand(manifests, options));
    });
}
