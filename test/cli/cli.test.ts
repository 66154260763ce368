/**
 * The `slotflow` CLI end to end: each test runs the built CLI (`.vitest/build/cli.js`, built once for the whole
 * run by test/helpers/buildCli.ts) in a child process with plain node, as `npx slotflow` does, with stdout and
 * stderr as pipes, as in CI. TypeScript `--routines` modules are loaded through tsx on demand, as for a user.
 * Every test spawns processes: each has a budget that holds on a loaded 2-core machine (SPAWN_BUDGET).
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore, createRuntime, type JobEvent, type JobState } from 'slotflow';
import { createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { collector, fetcher } from './fixtures/routines.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, '.vitest', 'build', 'cli.js');
/** Per test: a CLI run takes ~0.5 s idle and 3-7 s on a busy 2-core machine; a test runs up to three. */
const SPAWN_BUDGET = 60_000;
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

/** The built CLI, started as `npx slotflow` starts it. */
function start(args: readonly string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
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

/**
 * Resolves with the names of the store's job files once it holds `count` of them: watched (inotify), not polled
 * against the clock, so a slow machine only makes it later.
 */
function storedFiles(store: string, count: number): Promise<string[]> {
  const files = () => readdirSync(store).filter((f) => f.endsWith('.json'));
  return new Promise((resolve) => {
    const watcher = watch(store, () => {
      if (files().length >= count) {
        watcher.close();
        resolve(files());
      }
    });
    if (files().length >= count) {
      watcher.close();
      resolve(files());
    }
  });
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

describe.concurrent('slotflow run', { timeout: SPAWN_BUDGET }, () => {
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
    [['--jobs', '2.5'], "error: option '--jobs <n>' argument '2.5' is invalid. Expected an integer from 0 and up, got '2.5'."],
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

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('without --store, %s cancels the running jobs, writes them as cancelled and exits %i', async (signal, exitCode) => {
    const out = tempDir();
    const run = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--jobs', '3', '--out', out]);
    await run.output("Running 3 jobs of flow 'waiting_flow'");

    run.child.kill(signal);
    const { code, stdout, stderr } = await run.exit;

    expect(code).toBe(exitCode);
    expect(stdout).toContain(`Interrupted (${signal}): cancelling the running jobs`);
    expect(stdout).toMatch(/3 jobs of flow 'waiting_flow' in [\d.]+ s: 0 completed, 0 failed, 3 cancelled/);
    expect(stderr).toContain('Interrupted: 3 jobs cancelled.');
    const jobs = readJobs(out);
    expect(jobs.map((j) => j.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    for (const job of jobs) expect(job.error).toMatchObject({ name: 'JobCancelledError', reason: `interrupted (${signal})` });
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
    expect(stderr).toContain('Interrupted again (SIGINT): exiting now (results may be incomplete).');
  });

  it('with --store, resumes the unfinished jobs a killed run left there, and Ctrl-C keeps them all', async () => {
    const store = tempDir();
    const out = tempDir();
    const killed = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--store', store]);
    await killed.output('Running 1 job');
    // The job's first checkpoint is in the store once its file is.
    const [file] = await storedFiles(store, 1);
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
    // Suspended, not cancelled: the store keeps both jobs, unfinished, for the next run.
    expect(readdirSync(store).filter((f) => f.endsWith('.json')).sort()).toEqual(ids.map((id) => `${id}.json`).sort());
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('with --store, %s suspends: jobs kept in the store with their status, summary and --out written, exit %i; --jobs 0 resumes them', async (signal, exitCode) => {
    const store = tempDir();
    const out = tempDir();
    const run = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--jobs', '3', '--store', store, '--out', out]);
    await run.output("Running 3 jobs of flow 'waiting_flow'");
    // Every job has started (its activation is running) once the three `routine.started` events are written.
    await storedFiles(store, 3);
    run.child.kill(signal);
    const { code, stdout, stderr } = await run.exit;

    expect(code).toBe(exitCode);
    expect(stdout).toContain(`Interrupted (${signal}): suspending the running jobs and keeping them in ${store}`);
    expect(stdout).toMatch(/3 jobs of flow 'waiting_flow' in [\d.]+ s: 0 completed, 0 failed, 0 cancelled, 3 suspended\n/);
    expect(stdout).toMatch(new RegExp(`job ${UUID} suspended \\(kept in the store, status running\\)`));
    expect(stderr).toContain(`Interrupted: 3 jobs suspended and kept in ${store}; \`slotflow run ${FIXTURES}/waiting.yaml --routines ${ROUTINES} --store ${store} --jobs 0\` resumes them.`);
    const jobs = readJobs(out);
    expect(jobs.map((j) => j.status)).toEqual(['running', 'running', 'running']);
    expect(readEvents(out).filter((e) => e.type === 'job.cancelled')).toEqual([]);
    const kept = readdirSync(store).filter((f) => f.endsWith('.json'));
    expect(kept.sort()).toEqual(jobs.map((j) => `${j.jobId}.json`).sort());
    for (const f of kept) expect(JSON.parse(readFileSync(join(store, f), 'utf8'))).toMatchObject({ status: 'running' });

    // Only resume: no new job, the same three ids, still kept after another signal.
    const resumed = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--jobs', '0', '--store', store]);
    await resumed.output('Resuming 3 unfinished jobs');
    resumed.child.kill(signal);
    const again = await resumed.exit;
    expect(again.code).toBe(exitCode);
    expect(again.stdout).not.toContain('Running');
    expect(again.stdout).toMatch(/3 jobs of flow 'waiting_flow' in [\d.]+ s: 0 completed, 0 failed, 0 cancelled, 3 suspended\n/);
    for (const job of jobs) expect(again.stdout).toContain(`job ${job.jobId} suspended`);
    expect(readdirSync(store).filter((f) => f.endsWith('.json')).sort()).toEqual(kept.sort());
  });

  it('with --store, a second SIGINT exits at once and the store still holds the job', async () => {
    const store = tempDir();
    const out = tempDir();
    // A named pipe nobody reads: writing the event log never finishes, so the first Ctrl-C cannot complete.
    execFileSync('mkfifo', [join(out, 'events.jsonl')]);
    const run = start(['run', `${FIXTURES}/waiting.yaml`, '--routines', ROUTINES, '--store', store, '--out', out]);
    await run.output("Running 1 job of flow 'waiting_flow'");
    const [file = ''] = await storedFiles(store, 1);
    run.child.kill('SIGINT');
    await run.output('suspended (kept in the store');
    expect(run.child.exitCode).toBeNull();

    run.child.kill('SIGINT');
    const { signal, stderr } = await run.exit;

    expect(signal).toBe('SIGINT');
    expect(stderr).toContain('Interrupted again (SIGINT): exiting now; the store keeps what it had saved.');
    expect(JSON.parse(readFileSync(join(store, file), 'utf8'))).toMatchObject({ status: 'running', flowId: 'waiting_flow' });
  });

  it('--jobs 0 needs --store, and with an empty store resumes nothing and exits 0', async () => {
    const [refused, empty] = await Promise.all([cli('run', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES, '--jobs', '0'), cli('run', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES, '--jobs', '0', '--store', tempDir())]);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('slotflow: --jobs 0 starts no job: it only resumes the unfinished jobs of a store; give --store <dir> too');
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^Nothing to resume in .*\n\n0 jobs of flow 'fetch_flow' in [\d.]+ s: 0 completed, 0 failed, 0 cancelled\n/);
  });

  it('completes a recovered keepAlive job and resumes a paused one, saying so; odd ids are escaped on the terminal and in file names', async () => {
    const store = tempDir();
    const out = tempDir();
    const hostile = '\u001b[31mred\ud800';
    const long = 'x'.repeat(5000);
    // Another program left these in the store: a keepAlive job and a paused one, neither of which a CLI run could
    // post to or resume by hand.
    const runtime = createRuntime({ store: createFileStore(store) });
    const flow = loadFlow(readFileSync(join(ROOT, FIXTURES, 'flow.yaml'), 'utf8'), { routines: createRoutineRegistry([fetcher, collector]) });
    runtime.register(flow);
    const alive = runtime.exec('fetch_flow', { jobId: hostile, keepAlive: true, params: { n: 1 } });
    const paused = runtime.exec('fetch_flow', { jobId: long, params: { n: 2 } });
    paused.pause();
    await Promise.all([alive.checkpoint(), paused.checkpoint()]);
    await runtime.shutdown({ suspend: true });

    const { code, stdout, stderr } = await cli('run', `${FIXTURES}/flow.yaml`, '--routines', ROUTINES, '--jobs', '0', '--store', store, '--out', out);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Resuming 2 unfinished jobs');
    expect(stdout).toContain('Job \\u001b[31mred\\ud800 was started with keepAlive: completing it once its queued work is done.');
    expect(stdout).toContain(`Job ${'x'.repeat(120)}... (5000 characters) was paused: resuming it.`);
    expect(stdout).toMatch(/2 jobs of flow 'fetch_flow' in [\d.]+ s: 2 completed, 0 failed, 0 cancelled\n/);
    // Nothing raw reaches the terminal: no escape character, no lone surrogate.
    expect(stdout).not.toContain('\u001b');
    expect(stdout).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/u);
    const jobs = readJobs(out);
    expect(jobs.map((j) => j.jobId).sort()).toEqual([hostile, long].sort());
    for (const job of jobs) expect(job.status).toBe('completed');
    for (const name of readdirSync(join(out, 'jobs'))) expect(name).toMatch(/^[a-z0-9_%~-]{1,200}\.json$/);
  });
});

describe.concurrent('slotflow with a TypeScript --routines module', { timeout: SPAWN_BUDGET }, () => {
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

    const { code, stdout, stderr } = await start(['validate', `${FIXTURES}/flow.yaml`, '--routines', join(project, 'routines.ts')], ).exit;

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`valid: ${FIXTURES}/flow.yaml: flow 'fetch_flow' (2 routines, 1 connection, entry fetch.trigger)\n`);
  });
});

describe.concurrent('slotflow validate', { timeout: SPAWN_BUDGET }, () => {
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

describe.concurrent('slotflow graph', { timeout: SPAWN_BUDGET }, () => {
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

describe.concurrent('slotflow --help', { timeout: SPAWN_BUDGET }, () => {
  it('describes every command, and each command its flags', async () => {
    const [top, run, validate, graph] = await Promise.all([cli('--help'), cli('run', '--help'), cli('validate', '--help'), cli('graph', '--help')]);

    for (const result of [top, run, validate, graph]) expect(result.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: slotflow \[options\] \[command\]/);
    for (const command of ['run [options] <manifest>', 'validate [options] <manifest>', 'graph [options] <manifest>']) expect(top.stdout).toContain(command);
    for (const flag of ['--routines <module>', '--params <json|@file>', '--concurrency <n>', '--jobs <n>', '--store <dir>', '--out <dir>', 'Exit codes:']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toMatch(/--jobs <n> +how many new jobs to run \(0: only resume what\s+--store\s+holds\) \(default: 1\)/);
    expect(validate.stdout).toContain('--routines <module>');
    expect(graph.stdout).toContain('--routines <module>');
  });

  it('prints the version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { code, stdout } = await cli('--version');
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
    expect(existsSync(CLI)).toBe(true);
  });
});
