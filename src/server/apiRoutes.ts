/**
 * apiRoutes: the JSON API under `/api` (routes, body checks with zod, errors as `{ error: { name, message } }`).
 */
import type { Context, Hono } from 'hono';
import { JobFinishedError, type Job, type JobStatus, type Runtime } from 'slotflow';
import { z } from 'zod';
import { describeFlow, jobDetail, summarizeJob } from './describe.js';
import { JobNotFoundError, RequestError } from './errors.js';
import type { EventHub } from './EventHub.js';
import { toJson } from './toJson.js';

const breakpoints = z.array(z.strictObject({ routine: z.string().min(1) }));
const execBody = z.strictObject({
  flowId: z.string().min(1),
  params: z.record(z.string(), z.unknown()).optional(),
  jobId: z.string().min(1).optional(),
  keepAlive: z.boolean().optional(),
  breakpoints: breakpoints.optional(),
});
const postBody = z.strictObject({
  routineId: z.string().min(1),
  slot: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
});
const breakpointsBody = z.strictObject({ breakpoints });

const STATUSES: readonly JobStatus[] = ['queued', 'running', 'paused', 'idle', 'completed', 'failed', 'cancelled'];
const ACTIONS = ['pause', 'resume', 'cancel', 'complete', 'step'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * A JSON response through `toJson` (errors as data, BigInt as text); `plain` data (no error, no BigInt, no cycle:
 * the job list, read by the page every second) takes the faster `JSON.stringify`.
 */
export function sendJson(c: Context, value: unknown, status: 200 | 201 | 400 | 401 | 404 | 409 | 500 = 200, plain = false): Response {
  return c.body(plain ? JSON.stringify(value) : toJson(value), status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
}

async function body<T>(c: Context, route: string, schema: z.ZodType<T>): Promise<T> {
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new RequestError(route, ['the body is not a JSON object (send Content-Type: application/json)']);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new RequestError(route, result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`));
  return result.data;
}

function jobOf(runtime: Runtime, id: string): Job {
  const job = runtime.getJob(id);
  if (!job) throw new JobNotFoundError(id);
  return job;
}

function unfinished(job: Job): Job {
  if (job.state.finishedAt !== undefined) throw new JobFinishedError(job.id, job.status);
  return job;
}

/**
 * Registers the JSON API. Split by what a route does (read, start, drive a live job, stream) so each part stays
 * small; registration order is kept as it was, since Hono matches routes in the order they are added.
 */
export function apiRoutes(app: Hono, runtime: Runtime, hub: EventHub): void {
  readRoutes(app, runtime);
  app.post('/api/jobs', async (c) => {
    const { flowId, params, jobId, keepAlive, breakpoints: points } = await body(c, 'POST /api/jobs', execBody);
    const job = runtime.exec(flowId, { ...(params ? { params } : {}), ...(jobId ? { jobId } : {}), ...(keepAlive !== undefined ? { keepAlive } : {}), ...(points ? { breakpoints: points } : {}) });
    return sendJson(c, { id: job.id }, 201);
  });
  controlRoutes(app, runtime);
  app.get('/api/metrics', (c) => sendJson(c, runtime.metrics()));
  eventsRoute(app, runtime, hub);
}

/** The read-only routes: flows, the job list (with its status filter checked here) and one job's detail. */
function readRoutes(app: Hono, runtime: Runtime): void {
  app.get('/api/flows', (c) => sendJson(c, runtime.flowIds.map((id) => runtime.getFlow(id)).filter((f) => f !== undefined).map(describeFlow)));

  app.get('/api/jobs', (c) => {
    const statusText = c.req.query('status');
    const flowId = c.req.query('flowId');
    let status: JobStatus[] | undefined;
    if (statusText !== undefined && statusText !== '') {
      status = statusText.split(',').map((s) => s.trim()) as JobStatus[];
      const bad = status.filter((s) => !STATUSES.includes(s));
      if (bad.length) throw new RequestError('GET /api/jobs', [`status: expected one or more of ${STATUSES.join(', ')} (comma-separated), got '${bad.join(',')}'`]);
    }
    return sendJson(c, runtime.listJobs({ ...(status ? { status } : {}), ...(flowId ? { flowId } : {}) }).map(summarizeJob), 200, true);
  });

  app.get('/api/jobs/:id', (c) => sendJson(c, jobDetail(jobOf(runtime, c.req.param('id')))));
}

/** The routes that drive a job that has not finished: post to a slot, set breakpoints, and the control actions. */
function controlRoutes(app: Hono, runtime: Runtime): void {
  app.post('/api/jobs/:id/post', async (c) => {
    const job = unfinished(jobOf(runtime, c.req.param('id')));
    const { routineId, slot, payload } = await body(c, 'POST /api/jobs/:id/post', postBody);
    job.post(routineId, slot, payload);
    return sendJson(c, { id: job.id, status: job.status });
  });

  app.put('/api/jobs/:id/breakpoints', async (c) => {
    const job = unfinished(jobOf(runtime, c.req.param('id')));
    const { breakpoints: points } = await body(c, 'PUT /api/jobs/:id/breakpoints', breakpointsBody);
    job.setBreakpoints(points);
    return sendJson(c, { id: job.id, breakpoints: job.breakpoints });
  });

  for (const action of ACTIONS)
    app.post(`/api/jobs/:id/${action}`, (c) => {
      const job = unfinished(jobOf(runtime, c.req.param('id')));
      act(job, action);
      return sendJson(c, { id: job.id, status: job.status });
    });
}

/** Server-Sent Events, optionally for one job and some event types; the client is closed when the request ends. */
function eventsRoute(app: Hono, runtime: Runtime, hub: EventHub): void {
  app.get('/api/events', (c) => {
    const jobId = c.req.query('jobId') ?? '';
    const job = jobId === '' ? undefined : jobOf(runtime, jobId);
    const typesText = c.req.query('types');
    const types = typesText ? typesText.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    const client = hub.open({ ...(jobId !== '' ? { jobId } : {}), ...(types ? { types } : {}) }, job);
    c.req.raw.signal.addEventListener('abort', () => {
      client.close();
    });
    return new Response(client.stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' },
    });
  });
}

function act(job: Job, action: Action): void {
  switch (action) {
    case 'pause':
      job.pause();
      return;
    case 'resume':
      job.resume();
      return;
    case 'cancel':
      job.cancel('cancelled from the monitor');
      return;
    case 'complete':
      job.complete();
      return;
    case 'step':
      job.step();
      return;
  }
}
