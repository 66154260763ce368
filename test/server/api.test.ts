import { createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, InvalidOptionError, type Runtime } from 'slotflow';
import { createServer, isLoopback, type MonitorServer, type ServerOptions } from 'slotflow/server';
import { Gate } from '../helpers/deferred.js';
import { SseReader } from './sse.js';

const opened: { runtime: Runtime; server: MonitorServer }[] = [];
afterEach(async () => {
  for (const { runtime, server } of opened.splice(0)) {
    await server.close();
    await runtime.shutdown();
  }
});

/** a -> b -> c; `b` waits at the gate. */
function pipeline(gate: Gate) {
  const pass = (name: string, wait = false) =>
    defineRoutine({
      name,
      slots: ['input'],
      events: { output: ['n'] },
      async run({ slots, emit, signal }) {
        if (wait) await gate.enter(name, signal);
        emit('output', { n: (slots.input[0] as { n: number }).n + 1 });
      },
    });
  return createFlow('pipeline')
    .add('a', pass('a'))
    .add('b', pass('b', true))
    .add('c', pass('c'))
    .connect('a.output', 'b.input')
    .connect('b.output', 'c.input')
    .entry('a', 'input');
}

async function start(options: ServerOptions = {}) {
  const gate = new Gate();
  const runtime = createRuntime();
  runtime.register(pipeline(gate));
  const server = await createServer(runtime, options);
  opened.push({ runtime, server });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text.startsWith('{') || text.startsWith('[') ? (JSON.parse(text) as Record<string, unknown> & unknown[]) : text };
  };
  return { gate, runtime, server, call };
}

const errorOf = (body: unknown) => (body as { error: { name: string; message: string } }).error;

describe('createServer', () => {
  it('listens on loopback by default and says where', async () => {
    const { server } = await start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('refuses a non-loopback host without a token, unknown options and bad values with InvalidOptionError', async () => {
    const runtime = createRuntime();
    try {
      await expect(createServer(runtime, { host: '0.0.0.0' })).rejects.toThrow(InvalidOptionError);
      await expect(createServer(runtime, { host: '0.0.0.0' })).rejects.toThrow(/loopback host .* unless a `token` is set: '0.0.0.0'/);
      // @ts-expect-error -- a misspelt option
      await expect(createServer(runtime, { prot: 1 })).rejects.toThrow(/createServer\(options\)\.prot/);
      await expect(createServer(runtime, { port: 70_000 })).rejects.toThrow(/port/);
      await expect(createServer(runtime, { token: '' })).rejects.toThrow(/token/);
      // @ts-expect-error -- not a runtime
      await expect(createServer({}, {})).rejects.toThrow(/a runtime from createRuntime/);
    } finally {
      await runtime.shutdown();
    }
  });

  it('tells loopback addresses apart', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '128.0.0.1']) expect(isLoopback(host)).toBe(false);
  });

  it('close() ends open event streams and frees the port', async () => {
    const { server, runtime } = await start();
    const stream = new SseReader(await fetch(`${server.url}/api/events`));
    await stream.until(() => stream.comments.includes('connected'), 'the stream opened');
    await server.close();
    await stream.done;
    expect(stream.ended).toBe(true);
    // The same port can be listened on again.
    const again = createNetServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(server.port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
    await server.close(); // idempotent
    await runtime.shutdown();
    opened.length = 0;
  });
});

describe('HTTP API', () => {
  it('GET /api/flows lists each flow with its routines, connections and Mermaid text', async () => {
    const { call } = await start();
    const { status, body } = await call('GET', '/api/flows');
    expect(status).toBe(200);
    expect(body).toHaveLength(1);
    const [flow] = body as unknown as { id: string; routines: { id: string; slots: string[] }[]; connections: unknown[]; entry: string; mermaid: string }[];
    expect(flow?.id).toBe('pipeline');
    expect(flow?.routines.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(flow?.routines[0]?.slots).toEqual(['input']);
    expect(flow?.connections).toEqual([
      { name: 'a.output->b.input', from: 'a.output', to: 'b.input' },
      { name: 'b.output->c.input', from: 'b.output', to: 'c.input' },
    ]);
    expect(flow?.entry).toBe('a.input');
    expect(flow?.mermaid).toMatch(/^---\ntitle: "pipeline"/);
  });

  it('POST /api/jobs starts a job (201); GET /api/jobs and /api/jobs/:id show it', async () => {
    const { call, gate, runtime } = await start();
    const created = await call('POST', '/api/jobs', { flowId: 'pipeline', params: { n: 1 }, jobId: 'job-1' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 'job-1' });
    await waitFor(() => gate.inside === 1);

    const list = await call('GET', '/api/jobs');
    expect(list.body).toEqual([{ id: 'job-1', flowId: 'pipeline', status: 'running', startedAt: expect.any(Number) }]);
    expect((await call('GET', '/api/jobs?status=completed')).body).toEqual([]);
    expect((await call('GET', '/api/jobs?status=running,paused&flowId=pipeline')).body).toHaveLength(1);
    expect((await call('GET', '/api/jobs?flowId=other')).body).toEqual([]);

    const detail = await call('GET', '/api/jobs/job-1');
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ jobId: 'job-1', flowId: 'pipeline', status: 'running', params: { n: 1 }, machines: { a: 'idle', b: 'running', c: 'idle' }, breakpoints: [], pausedAt: null });

    gate.releaseAll();
    await runtime.getJob('job-1')?.wait();
    const done = await call('GET', '/api/jobs/job-1');
    expect(done.body).toMatchObject({ status: 'completed', outputs: { 'c.output': [{ n: 4 }] }, finishedAt: expect.any(Number) });
    expect((await call('GET', '/api/jobs?status=completed')).body).toHaveLength(1);
  });

  it('answers bad requests with 400 and the typed error as { error: { name, message } }', async () => {
    const { call } = await start();
    const missing = await call('POST', '/api/jobs', { params: {} });
    expect(missing.status).toBe(400);
    expect(errorOf(missing.body)).toEqual({ name: 'RequestError', message: expect.stringMatching(/^Bad request to POST \/api\/jobs: flowId: /) });
    const unknownKey = await call('POST', '/api/jobs', { flowId: 'pipeline', parms: {} });
    expect(unknownKey.status).toBe(400);
    expect(errorOf(unknownKey.body).message).toMatch(/parms/);
    const notJson = await call('POST', '/api/jobs', '{nope');
    expect(notJson.status).toBe(400);
    expect(errorOf(notJson.body).message).toMatch(/not a JSON object/);
    const badStatus = await call('GET', '/api/jobs?status=done');
    expect(badStatus.status).toBe(400);
    expect(errorOf(badStatus.body).message).toMatch(/expected one or more of queued, running/);
    await call('POST', '/api/jobs', { flowId: 'pipeline', jobId: 'twice', keepAlive: true });
    const duplicate = await call('POST', '/api/jobs', { flowId: 'pipeline', jobId: 'twice' });
    expect(duplicate.status).toBe(400);
    expect(errorOf(duplicate.body).name).toBe('InvalidOptionError');
    const unknownSlot = await call('POST', '/api/jobs/twice/post', { routineId: 'a', slot: 'nope', payload: {} });
    expect(unknownSlot.status).toBe(400);
    expect(errorOf(unknownSlot.body)).toMatchObject({ name: 'UnknownSlotError', message: expect.stringMatching(/no slot 'nope'/) });
    const badBreakpoint = await call('PUT', '/api/jobs/twice/breakpoints', { breakpoints: [{ routine: 'zz' }] });
    expect(badBreakpoint.status).toBe(400);
    expect(errorOf(badBreakpoint.body).name).toBe('UnknownSlotError');
  });

  it('answers unknown flows, jobs and routes with 404', async () => {
    const { call } = await start();
    const flow = await call('POST', '/api/jobs', { flowId: 'nope' });
    expect(flow.status).toBe(404);
    expect(errorOf(flow.body)).toMatchObject({ name: 'FlowNotFoundError', message: expect.stringMatching(/Flow 'nope' is not registered; expected one of 'pipeline'/) });
    for (const [method, path] of [
      ['GET', '/api/jobs/missing'],
      ['POST', '/api/jobs/missing/pause'],
      ['POST', '/api/jobs/missing/step'],
      ['GET', '/api/events?jobId=missing'],
    ] as const) {
      const res = await call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(errorOf(res.body).name).toBe('JobNotFoundError');
    }
    const route = await call('GET', '/api/nothing');
    expect(route.status).toBe(404);
    expect(errorOf(route.body).name).toBe('RouteNotFoundError');
  });

  it('drives a job: pause, resume, post, complete, step, cancel; 409 once it is finished', async () => {
    const { call, gate, runtime } = await start();
    await call('POST', '/api/jobs', { flowId: 'pipeline', jobId: 'k', keepAlive: true });
    const job = runtime.getJob('k');
    await waitFor(() => job?.status === 'idle');

    expect((await call('POST', '/api/jobs/k/pause')).body).toEqual({ id: 'k', status: 'paused' });
    const posted = await call('POST', '/api/jobs/k/post', { routineId: 'a', slot: 'input', payload: { n: 1 } });
    expect(posted.status).toBe(200);
    await settleSoon();
    expect(job?.state.routines.a?.pending.input).toEqual([{ n: 1 }]); // paused: the post waits

    // step runs exactly the next activation (a), then the job pauses before b.
    expect((await call('POST', '/api/jobs/k/step')).status).toBe(200);
    await waitFor(() => job?.state.routines.a?.activations === 1 && job.status === 'paused');
    expect(job?.state.routines.b?.activations).toBe(0);

    expect((await call('POST', '/api/jobs/k/resume')).body).toMatchObject({ status: 'running' });
    await waitFor(() => gate.inside === 1);
    gate.releaseAll();
    await waitFor(() => job?.status === 'idle');
    expect(job?.state.outputs['c.output']).toEqual([{ n: 4 }]);

    const breakpoints = await call('PUT', '/api/jobs/k/breakpoints', { breakpoints: [{ routine: 'c' }] });
    expect(breakpoints.body).toEqual({ id: 'k', breakpoints: [{ routine: 'c' }] });
    await call('POST', '/api/jobs/k/post', { routineId: 'b', slot: 'input', payload: { n: 10 } });
    await waitFor(() => gate.inside === 1);
    gate.releaseAll();
    await waitFor(() => job?.status === 'paused');
    expect((await call('GET', '/api/jobs/k')).body).toMatchObject({ status: 'paused', pausedAt: 'c', breakpoints: [{ routine: 'c' }] });

    expect((await call('POST', '/api/jobs/k/cancel')).body).toMatchObject({ status: 'cancelled' });
    for (const action of ['pause', 'resume', 'cancel', 'complete', 'step']) {
      const res = await call('POST', `/api/jobs/k/${action}`);
      expect(res.status, action).toBe(409);
      expect(errorOf(res.body)).toMatchObject({ name: 'JobFinishedError', message: expect.stringMatching(/Job 'k' has finished with status 'cancelled'/) });
    }
    expect((await call('POST', '/api/jobs/k/post', { routineId: 'a', slot: 'input', payload: {} })).status).toBe(409);
    expect((await call('PUT', '/api/jobs/k/breakpoints', { breakpoints: [] })).status).toBe(409);

    await call('POST', '/api/jobs', { flowId: 'pipeline', jobId: 'k2', keepAlive: true });
    await waitFor(() => runtime.getJob('k2')?.status === 'idle');
    expect((await call('POST', '/api/jobs/k2/complete')).status).toBe(200);
    await runtime.getJob('k2')?.wait();
    expect(runtime.getJob('k2')?.status).toBe('completed');
  });

  it('GET /api/metrics returns the runtime metrics', async () => {
    const { call, runtime, gate } = await start();
    await call('POST', '/api/jobs', { flowId: 'pipeline', params: { n: 0 }, jobId: 'm' });
    await waitFor(() => gate.inside === 1);
    gate.releaseAll();
    await runtime.getJob('m')?.wait();
    const { status, body } = await call('GET', '/api/metrics');
    expect(status).toBe(200);
    expect(body).toMatchObject({ jobs: { completed: 1 }, flows: { pipeline: { routines: { a: { activations: 1 }, b: { activations: 1 } } } } });
  });

  it('serves the monitor page and its assets from the package, with a policy that keeps it on this server', async () => {
    const { call } = await start({ token: 'secret' });
    const page = await call('GET', '/');
    expect(page.status).toBe(200); // public: the page asks for the token itself
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(page.body).toMatch(/<script type="module" src="\/assets\/app.js">/);
    for (const path of ['/assets/app.js', '/assets/dom.js', '/assets/job.js', '/assets/jobs.js', '/assets/api.js', '/assets/graph.js', '/assets/timeline.js', '/assets/monitor.css', '/vendor/dagre.js']) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(200);
      expect(String(res.body)).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    expect((await call('GET', '/assets/nope.js')).status).toBe(404);
  });
});

describe('token', () => {
  it('every /api request needs the bearer token (or ?token=); the error says which', async () => {
    const { call, server } = await start({ token: 's3cret' });
    const none = await call('GET', '/api/flows');
    expect(none.status).toBe(401);
    expect(errorOf(none.body)).toMatchObject({ name: 'UnauthorizedError', message: expect.stringMatching(/needs a token/) });
    const wrong = await call('GET', '/api/flows', undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(errorOf(wrong.body).message).toMatch(/does not match/);
    expect((await call('GET', '/api/flows', undefined, { authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await call('GET', '/api/flows?token=s3cret')).status).toBe(200);
    expect((await call('POST', '/api/jobs', { flowId: 'pipeline' })).status).toBe(401);
    const events = await fetch(`${server.url}/api/events?token=s3cret`);
    expect(events.status).toBe(200);
    await events.body?.cancel();
  });

  it('a token lets the server listen beyond loopback', async () => {
    const runtime = createRuntime();
    const server = await createServer(runtime, { host: '0.0.0.0', token: 't' });
    opened.push({ runtime, server });
    expect(server.host).toBe('0.0.0.0');
  });
});

describe('GET /api/events', () => {
  it('sends headers at once, then one event: <type> / data: <json> per job event, filtered by jobId', async () => {
    const { server, call, gate } = await start();
    const all = new SseReader(await fetch(`${server.url}/api/events`));
    expect(all.response.status).toBe(200);
    expect(all.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await call('POST', '/api/jobs', { flowId: 'pipeline', params: { n: 1 }, jobId: 'one' });
    const one = new SseReader(await fetch(`${server.url}/api/events?jobId=one`));
    await call('POST', '/api/jobs', { flowId: 'pipeline', params: { n: 1 }, jobId: 'two' });
    await waitFor(() => gate.inside === 2);
    gate.releaseAll();
    await all.until(() => all.messages.filter((m) => m.event === 'job.completed').length === 2, 'both jobs completed');
    await one.until(() => one.types().includes('job.completed'), 'job one completed');

    expect(all.messages.find((m) => m.event === 'job.started')?.data).toMatchObject({ type: 'job.started', jobId: 'one', flowId: 'pipeline', at: expect.any(Number) });
    for (const m of all.messages) expect((m.data as { type: string }).type).toBe(m.event);
    expect(new Set(one.messages.map((m) => (m.data as { jobId: string }).jobId))).toEqual(new Set(['one']));
    expect(one.types()).toContain('routine.completed');
    await all.cancel();
    await one.cancel();
  });

  it('?types= keeps the given types and prefixes', async () => {
    const { server, call, gate } = await start();
    const jobsOnly = new SseReader(await fetch(`${server.url}/api/events?types=job.,routine.failed`));
    await call('POST', '/api/jobs', { flowId: 'pipeline', params: { n: 1 }, jobId: 'x' });
    await waitFor(() => gate.inside === 1);
    gate.releaseAll();
    await jobsOnly.until(() => jobsOnly.types().includes('job.completed'), 'the job completed');
    expect(jobsOnly.types().every((t) => t.startsWith('job.'))).toBe(true);
    await jobsOnly.cancel();
  });

  it('coalesces a burst of activations into batches, and never loses the final event', async () => {
    const gate = new Gate();
    const runtime = createRuntime();
    const loop = defineRoutine({
      name: 'loop',
      slots: ['input'],
      events: { again: ['n'] },
      run({ slots, emit }) {
        const n = (slots.input[0] as { n: number }).n;
        if (n < 2000) emit('again', { n: n + 1 });
      },
    });
    runtime.register(createFlow('loop').add('loop', loop).connect('loop.again', 'loop.input', { maxIterations: 5000 }).entry('loop', 'input'));
    const server = await createServer(runtime);
    opened.push({ runtime, server });
    const stream = new SseReader(await fetch(`${server.url}/api/events`));
    await stream.until(() => stream.comments.includes('connected'), 'the stream opened');
    const job = runtime.exec('loop', { params: { n: 0 } });
    await job.wait();
    await stream.until(() => stream.types().includes('job.completed'), 'the job completed');
    const completed = stream.messages.filter((m) => m.event === 'routine.completed');
    // 2,001 activations, sent as a few coalesced events (each says how many it stands for).
    expect(completed.length).toBeLessThan(100);
    const counted = completed.reduce((n, m) => n + ((m.data as { coalesced?: number }).coalesced ?? 1), 0);
    expect(counted).toBe(2001);
    expect(stream.types().at(-1)).toBe('job.completed');
    expect(gate.inside).toBe(0);
    await stream.cancel();
  });

  it('sends a heartbeat comment while idle', async () => {
    const { server } = await start({ heartbeatMs: 50 });
    const stream = new SseReader(await fetch(`${server.url}/api/events`));
    await stream.until(() => stream.comments.includes('heartbeat'), 'a heartbeat');
    await stream.cancel();
  });
});

/** Waits (real time, generous) for a condition on what the server did. */
async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function settleSoon(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
