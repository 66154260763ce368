/**
 * The `slotflow` CLI end to end (SPEC 9): each test runs `src/cli/main.ts` in a child process (node with the tsx
 * loader, as `npx tsx src/cli/main.ts` would) with stdout and stderr as pipes, as in CI.
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobEvent, JobState } from 'slotflow';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const FIXTURES = 'test/cli/fixtures';
const ROUTINES = `${FIXTURES}/routines.ts`;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}';

interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once stdout or stderr contains `text`. */
  readonly output: (text: string) => Promise<void>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

// Tests run concurrently (each is mostly a child process starting): clean up once, at the end.
afterAll(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The CLI from source; `loader` is how node loads TypeScript (`tsx`: everything; `tsx/esm`: ES modules only, as the published CLI has it after registering tsx on demand). */
function start(args: readonly string[], loader: 'tsx' | 'tsx/esm' = 'tsx'): Run {
  const child = spawn(process.execPath, ['--conditions=development', '--import', loader, MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiting])
      if (stdout.includes(w.text) || stderr.includes(w.text)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    check();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    output: (text) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ text, resolve });
        check();
        void exit.then(() => {
          reject(new Error(`exited before printing ${JSON.stringify(text)}; stdout:\n${stdout}\nstderr:\n${stderr}`));
        });
      }),
    exit,
  };
}

const cli = (...args: string[]) => start(args).exit;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slotflow-cli-'));
  dirs.push(dir);
  return dir;
}

function readJobs(out: string): JobState[] {
  return readdirSync(join(out, 'jobs')).map((file) => JSON.parse(readFileSync(join(out, 'jobs', file), 'utf8')) as JobState);
}

function readEvents(out: string): JobEvent[] {
  return readFileSync(join(out, 'events.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as JobEvent);
}

describe.concurrent('slotflow run', () => {
  it('runs N jobs, prints one plain line per job and a per-routine summary, writes states and events, exits 0', async () => {
    const out = tempDir();
    const { code, stdout, stderr } = await cli('run', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES, '--params', '{"n":7}', '--jobs', '3', '--concurrency', '2', '--out', out);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.split('\n');
    expect(lines[0]).toBe("Running 3 jobs of flow 'fetch_flow' (concurrency 2)");
    for (const i of [1, 2, 3]) expect(lines[i]).toMatch(new RegExp(`^\\[${i}/3\\] job ${UUID} completed in \\d+ ms$`));
    expect(stdout).toMatch(/\n3 jobs of flow 'fetch_flow' in [\d.]+ s: 3 completed, 0 failed, 0 cancelled\n/);
    expect(stdout).toMatch(/\nroutine +activations +errors +p50 ms +p95 ms\nfetch +3 +0 +[\d.]+ +[\d.]+\ncollect +3 +0 +[\d.]+ +[\d.]+\n/);
    expect(stdout).toContain(`Wrote 3 job states to ${join(out, 'jobs')} and `);
    // Not a terminal: no ANSI escape codes.
    expect(stdout).not.toContain('\u001b');

    const jobs = readJobs(out);
    expect(jobs).toHaveLength(3);
    for (const job of jobs) {
      expect(job).toMatchObject({ flowId: 'fetch_flow', status: 'completed', params: { n: 7 } });
      expect(job.outputs['collect.collected']).toEqual([{ items: ['Source0:7'] }]);
      expect(stdout).toContain(`job ${job.jobId} completed`);
    }
    const events = readEvents(out);
    expect(new Set(events.filter((e) => e.type === 'job.completed').map((e) => e.jobId))).toEqual(new Set(jobs.map((j) => j.jobId)));
    expect(events.filter((e) => e.type === 'routine.completed')).toHaveLength(6);
  });

  it('reads --params from a file with @file, and runs one job by default', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'params.json'), '{ "n": 42 }');
    const out = join(dir, 'out');

    const { code } = await cli('run', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES, '--params', `@${join(dir, 'params.json')}`, '--out', out);

    expect(code).toBe(0);
    const jobs = readJobs(out);
    expect(jobs.map((j) => j.outputs['collect.collected'])).toEqual([[{ items: ['Source0:42'] }]]);
  });

  it('exits 1 when a job fails, printing the failure and writing the error as data', async () => {
    const out = tempDir();
    const { code, stdout, stderr } = await cli('run', `${FIXTURES}/failing.yaml`, '--routines', ROUTINES, '--jobs', '2', '--out', out);

    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`\\[1/2\\] job ${UUID} failed in \\d+ ms: Routine 'break' failed in job '${UUID}' of flow 'failing_flow': the breaker broke`));
    expect(stdout).toMatch(/\nbreak +2 +2 /);
    expect(stderr).toMatch(new RegExp(`^\\nJob ${UUID} failed: Routine 'break' failed .*the breaker broke\\nJob ${UUID} failed: `));
    const [job] = readJobs(out);
    expect(job?.status).toBe('failed');
    expect(job?.error).toMatchObject({ name: 'RoutineError', code: 'ROUTINE', routineId: 'break', cause: { name: 'Error', message: 'the breaker broke' } });
  });

  it('writes a BigInt as a string and a circular reference as [Circular] in job states and events', async () => {
    const out = tempDir();
    const { code, stderr } = await cli('run', `${FIXTURES}/odd.yaml`, '--routines', ROUTINES, '--out', out);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const [job] = readJobs(out);
    expect(job?.outputs['odd.made']).toEqual([{ big: '10', self: { name: 'loop', self: '[Circular]' } }]);
    expect(readEvents(out).find((e) => e.type === 'routine.completed')).toBeDefined();
  });

  it('exits 1 when results cannot be written, saying so instead of claiming them written', async () => {
    const out = tempDir();
    // Nothing can be created in /proc/<pid>, and a directory is no event log.
    symlinkSync('/proc/self', join(out, 'jobs'));
    mkdirSync(join(out, 'events.jsonl'));
    const { code, stdout, stderr } = await cli('run', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES, '--jobs', '2', '--out', out);

    expect(code).toBe(1);
    expect(stdout).toMatch(/2 completed, 0 failed, 0 cancelled/);
    expect(stdout).not.toContain('Wrote 2 job states');
    expect(stderr).toMatch(new RegExp(`slotflow: cannot write ${join(out, 'jobs')}/${UUID}[.]json: ENOENT`));
    expect(stderr).toContain(`slotflow: cannot write ${join(out, 'events.jsonl')}: EISDIR`);
    expect(stderr).toContain('slotflow: 2 job states and the event log could not be written (see above)');
  });

  it('exits 1 on an invalid manifest, listing every problem with its path', async () => {
    const { code, stdout, stderr } = await cli('run', `${FIXTURES}/invalid.yaml`, '--routines', ROUTINES);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`Manifest '${FIXTURES}/invalid.yaml' is invalid (4 problems):`);
    expect(stderr).toContain("routines.collect.type: unknown routine type 'colector'");
    expect(stderr).toContain('routines.collect.policy.n: expected a positive integer, got -1');
    expect(stderr).toContain("connections[0].from: routine 'fetch' (type 'fetcher') has no event 'outptu'");
  });

  it('exits 1 when the routines module is missing or exports no routines', async () => {
    const missing = await cli('run', `${FIXTURES}/flow.yaml`, '--routines', `${FIXTURES}/nope.ts`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^slotflow: --routines: no such file 'test\/cli\/fixtures\/nope\.ts'/);

    const empty = await cli('validate', `${FIXTURES}/flow.yaml`, '--routines', `${FIXTURES}/not-routines.mjs`);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("exports no routine definitions (values made with defineRoutine); it exports 'manifest'");
  });

  it.each([
    [['--concurrency', '0'], "error: option '--concurrency <n>' argument '0' is invalid. Expected an integer from 1 and up, got '0'."],
    [['--jobs', '2.5'], "error: option '--jobs <n>' argument '2.5' is invalid. Expected an integer from 1 and up, got '2.5'."],
    [['--params', '{nope'], "error: option '--params <json|@file>' argument '{nope' is invalid. Expected a JSON object (or @file holding one); the value is not JSON"],
    [['--params', '[1]'], "error: option '--params <json|@file>' argument '[1]' is invalid. Expected a JSON object (the entry slot's payload); the value holds an array."],
    [['--bogus'], "error: unknown option '--bogus'"],
  ])('exits 2 on a bad flag (%j), naming it', async (flags, message) => {
    const { code, stdout, stderr } = await cli('run', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES, ...flags);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toContain('(run with --help for usage)');
  });

  it('exits 2 when --routines is missing', async () => {
    const { code, stderr } = await cli('run', `${FIXTURES}/flow.yaml`);
    expect(code).toBe(2);
    expect(stderr).toContain("error: required option '--routines <module>' not specified");
  });

  it('on SIGINT cancels the running jobs, writes them as cancelled and exits 130', async () => {
    const out = tempDir();
    const run = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--jobs', '3', '--out', out]);
    await run.output("Running 3 jobs of flow 'waiting_flow'");

    run.child.kill('SIGINT');
    const { code, stdout, stderr } = await run.exit;

    expect(code).toBe(130);
    expect(stdout).toContain('Interrupted: cancelling the running jobs');
    expect(stdout).toMatch(/3 jobs of flow 'waiting_flow' in [\d.]+ s: 0 completed, 0 failed, 3 cancelled/);
    expect(stderr).toContain('Interrupted: 3 jobs cancelled.');
    const jobs = readJobs(out);
    expect(jobs.map((j) => j.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    for (const job of jobs) expect(job.error).toMatchObject({ name: 'JobCancelledError', reason: 'interrupted (SIGINT)' });
    expect(readEvents(out).filter((e) => e.type === 'job.cancelled')).toHaveLength(3);
  });

  it('exits at once on a second SIGINT, while the first is still writing results', async () => {
    const out = tempDir();
    // A named pipe nobody reads: writing the event log never finishes, so the first Ctrl-C cannot complete.
    execFileSync('mkfifo', [join(out, 'events.jsonl')]);
    const run = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--out', out]);
    await run.output("Running 1 job of flow 'waiting_flow'");
    run.child.kill('SIGINT');
    await run.output('cancelled in');
    expect(run.child.exitCode).toBeNull();

    run.child.kill('SIGINT');
    const { signal, stderr } = await run.exit;

    // Ended by the re-raised SIGINT, as if never caught (a shell reports 130).
    expect(signal).toBe('SIGINT');
    expect(stderr).toContain('Interrupted again: exiting now');
  });

  it('with --store, resumes the unfinished jobs a killed run left there', async () => {
    const store = tempDir();
    const out = tempDir();
    const killed = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--store', store]);
    await killed.output('Running 1 job');
    // The job's first checkpoint is in the store once its file is.
    while (!readdirSync(store).some((f) => f.endsWith('.json'))) await new Promise((resolve) => setTimeout(resolve, 20));
    const [file] = readdirSync(store).filter((f) => f.endsWith('.json'));
    killed.child.kill('SIGKILL');
    await killed.exit;

    const run = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--store', store, '--out', out]);
    await run.output('Running 1 job');
    run.child.kill('SIGINT');
    const { code, stdout } = await run.exit;

    expect(code).toBe(130);
    expect(stdout).toContain(`Resuming 1 unfinished job from ${store}\n`);
    const ids = readJobs(out).map((j) => j.jobId);
    expect(ids).toHaveLength(2);
    expect(ids).toContain(file?.replace(/\.json$/, ''));
    // Cancelled jobs are finished: the store keeps nothing to resume.
    expect(readdirSync(store).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});

describe.concurrent('slotflow with a TypeScript --routines module', () => {
  it('loads it in a CommonJS project (a package.json without "type": "module")', async () => {
    const project = tempDir();
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'cjs-project', private: true }));
    // The CLI under test is the source, and 'slotflow' there is src/index.ts: the module imports that, by path.
    writeFileSync(
      join(project, 'routines.ts'),
      [
        `import { defineRoutine } from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))};`,
        "const label: string = 'typed';",
        "export const fetcher = defineRoutine({ name: 'fetcher', slots: ['trigger'], events: { output: ['data'] }, config: { sourceName: label }, run: ({ emit }) => emit('output', { data: label }) });",
        "export const collector = defineRoutine({ name: 'collector', slots: ['input'], events: { collected: ['items'] }, run: ({ slots, emit }) => emit('collected', { items: slots.input.map((p) => p.data) }) });",
      ].join('\n'),
    );

    const { code, stdout, stderr } = await start(['validate', `${FIXTURES}/flow.yaml`, '--routines', join(project, 'routines.ts')], 'tsx/esm').exit;

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`valid: ${FIXTURES}/flow.yaml: flow 'fetch_flow' (2 routines, 1 connection, entry fetch.trigger)\n`);
  });
});

describe.concurrent('slotflow validate', () => {
  it('prints a valid line and exits 0', async () => {
    const { code, stdout } = await cli('validate', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES);
    expect(code).toBe(0);
    expect(stdout).toBe(`valid: ${FIXTURES}/flow.yaml: flow 'fetch_flow' (2 routines, 1 connection, entry fetch.trigger)\n`);
  });

  it('prints every problem and exits 1', async () => {
    const { code, stdout, stderr } = await cli('validate', `${FIXTURES}/invalid.yaml`, '--routines', ROUTINES);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      "  - routines.fetch.config.sourceNam: unknown config key for routine type 'fetcher'; expected one of 'sourceName'",
      '  - routines.collect.policy.n: expected a positive integer, got -1',
      "  - routines.collect.type: unknown routine type 'colector'; expected one of 'breaker', 'collector', 'fetcher', 'odd', 'waiter' (the registered routines)",
      "  - connections[0].from: routine 'fetch' (type 'fetcher') has no event 'outptu'; expected one of 'output'",
    ]);
  });
});

describe.concurrent('slotflow graph', () => {
  it('prints the flow as Mermaid, with or without the routines', async () => {
    const [withRoutines, without] = await Promise.all([cli('graph', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES), cli('graph', `${FIXTURES}/flow.yaml`)]);

    expect(withRoutines.code).toBe(0);
    expect(withRoutines.stdout).toBe(
      [
        '---',
        'title: "fetch_flow"',
        '---',
        'flowchart LR',
        '  entry(["entry"])',
        '  fetch["fetch: fetcher<br/>slots: trigger<br/>events: output<br/>policy: immediate"]',
        '  collect["collect: collector<br/>slots: input<br/>events: collected<br/>policy: immediate"]',
        '  entry -->|"trigger"| fetch',
        '  fetch -->|"output -> input"| collect',
        '',
      ].join('\n'),
    );
    // Without the definitions, a routine shows the slots and events the manifest names.
    expect(without.code).toBe(0);
    expect(without.stdout).toBe(withRoutines.stdout.replace('events: collected', 'events: (none)'));
  });

  it('draws a routine type whose slots the manifest never names, without --routines', async () => {
    const { code, stdout, stderr } = await cli('graph', `${FIXTURES}/slotless.yaml`);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('  source["source: fetcher<br/>slots: (not in manifest)<br/>events: output<br/>policy: immediate"]');
    expect(stdout).toContain('  entry -->|"(not in manifest)"| source');
    expect(stdout).toContain('  source -->|"output -> input"| sink');
  });
});

describe.concurrent('slotflow --help', () => {
  it('describes every command, and each command its flags', async () => {
    const [top, run, validate, graph] = await Promise.all([cli('--help'), cli('run', '--help'), cli('validate', '--help'), cli('graph', '--help')]);

    for (const result of [top, run, validate, graph]) expect(result.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: slotflow \[options\] \[command\]/);
    for (const command of ['run [options] <manifest>', 'validate [options] <manifest>', 'graph [options] <manifest>']) expect(top.stdout).toContain(command);
    for (const flag of ['--routines <module>', '--params <json|@file>', '--concurrency <n>', '--jobs <n>', '--store <dir>', '--out <dir>', 'Exit codes:']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toMatch(/--jobs <n> +how many jobs to run \(default: 1\)/);
    expect(validate.stdout).toContain('--routines <module>');
    expect(graph.stdout).toContain('--routines <module>');
  });

  it('prints the version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { code, stdout } = await cli('--version');
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
    expect(existsSync(MAIN)).toBe(true);
  });
});
