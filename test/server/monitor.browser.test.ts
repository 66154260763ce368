/**
 * The monitor page end to end: Debian's Chromium (headless, through playwright-core) against a real server and
 * runtime. Every request the page makes is routed: anything that is not this server fails the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRoutine, createFlow, createRuntime, defineRoutine, type Runtime } from 'slotflow';
import { createServer, type MonitorServer } from 'slotflow/server';
import { Gate } from '../helpers/deferred.js';

const BUDGET = 60_000;
const WAIT = { timeout: 20_000 };

let runtime: Runtime;
let server: MonitorServer;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const gate = new Gate();
const problems: string[] = [];
const outside: string[] = [];

function routine(name: string, gated: boolean) {
  return defineRoutine({
    name,
    slots: ['input'],
    events: { output: ['n'] },
    async run({ slots, emit, signal }) {
      if (gated) await gate.enter(name, signal);
      emit('output', { n: ((slots.input[0] as { n?: number } | undefined)?.n ?? 0) + 1 });
    },
  });
}

beforeAll(async () => {
  runtime = createRuntime();
  runtime.register(
    createFlow('orders')
      .add('fetch', routine('http.fetch', false))
      .add('enrich', routine('crm.enrich', true))
      .add('store', routine('pg.insert', false))
      .add('audit', routine('audit.log', false))
      .connect('fetch.output', 'enrich.input')
      .connect('enrich.output', 'store.input')
      .connect('fetch.output', 'audit.input')
      .entry('fetch', 'input'),
  );
  const steps = createFlow('steps')
    .add('x', routine('x', false))
    .add('y', routine('y', false))
    .add('z', routine('z', false))
    .connect('x.output', 'y.input')
    .connect('y.output', 'z.input')
    .entry('x', 'input');
  runtime.register(steps);
  runtime.register(
    createFlow('nested')
      .add('first', routine('first', false))
      .add('inner', asRoutine(steps, { name: 'steps', slots: { input: 'x.input' }, events: { output: 'z.output' } }))
      .connect('first.output', 'inner.input')
      .entry('first', 'input'),
  );
  server = await createServer(runtime, { port: 0 });
  const origin = new URL(server.url).origin;
  userDataDir = mkdtempSync(join(tmpdir(), 'slotflow-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  // Nothing may leave the machine: every request is checked, and anything but this server is refused.
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin || url.startsWith('data:')) await route.continue();
    else {
      outside.push(url);
      await route.abort();
    }
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // An event stream the page closes itself (selecting another job) is not a failure.
    if (!request.url().includes('/api/events')) problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  await page.goto(server.url);
  await page.locator('#flows .flow').first().waitFor(WAIT);
}, BUDGET);

afterAll(async () => {
  gate.releaseAll();
  await context.close();
  await server.close();
  await runtime.shutdown();
  rmSync(userDataDir, { recursive: true, force: true });
}, BUDGET);

const row = (jobId: string) => page.locator(`#jobs tr[data-job="${jobId}"]`);
const badge = () => page.locator('#job-status');
const statusIs = (status: string) => page.locator('#job-status', { hasText: new RegExp(`^${status}$`) }).waitFor(WAIT);

async function waitFor(check: () => boolean): Promise<void> {
  const until = Date.now() + WAIT.timeout;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('monitor page', () => {
  it('lists the flows, and jobs appear and change status live', async () => {
    await expect(page.locator('#flows .flow-name').allTextContents()).resolves.toEqual(['orders', 'steps', 'nested']);
    const job = runtime.exec('orders', { params: { n: 1 }, jobId: 'live-1' });
    await row('live-1').waitFor(WAIT);
    await page.locator('#jobs tr[data-job="live-1"] .status', { hasText: /^running$/ }).waitFor(WAIT);
    await waitFor(() => gate.inside === 1);
    gate.releaseAll();
    await job.wait();
    await page.locator('#jobs tr[data-job="live-1"] .status', { hasText: /^completed$/ }).waitFor(WAIT);
    // The status filter keeps only the matching rows.
    await page.locator('#filters [data-status="completed"]').click();
    await expect(row('live-1').isVisible()).resolves.toBe(true);
    await page.locator('#filters [data-status="all"]').click();
  }, BUDGET);

  it('draws every routine of the selected job and colours it by its machine state as it changes', async () => {
    const job = runtime.exec('orders', { params: { n: 1 }, jobId: 'graph-1' });
    await row('graph-1').click(WAIT);
    await page.locator('#job:not([hidden])').waitFor(WAIT);
    await expect(page.locator('#graph .node').count()).resolves.toBe(4);
    for (const id of ['fetch', 'enrich', 'store', 'audit']) await page.locator(`#graph .node[data-routine="${id}"]`).waitFor(WAIT);
    await expect(page.locator('#graph .edge').count()).resolves.toBe(3);
    await waitFor(() => gate.inside === 1);
    await page.locator('#graph .node[data-routine="enrich"].m-running').waitFor(WAIT);
    await expect(page.locator('#job-status').textContent()).resolves.toBe('running');
    gate.releaseAll();
    await job.wait();
    await page.locator('#graph .node[data-routine="enrich"].m-idle').waitFor(WAIT);
    await statusIs('completed');
    // The timeline has one bar per activation; the state tab shows the job's JSON.
    await page.locator('#timeline .bar').nth(3).waitFor(WAIT);
    await expect(page.locator('#timeline .bar').count()).resolves.toBe(4);
    await page.locator('.tabs [data-tab="state"]').click();
    await page.locator('#state-json', { hasText: '"jobId": "graph-1"' }).waitFor(WAIT);
    await page.locator('.tabs [data-tab="events"]').click();
    await page.locator('#events', { hasText: 'job.completed' }).waitFor(WAIT);
    await page.locator('.tabs [data-tab="timeline"]').click();
  }, BUDGET);

  it('draws a subflow routine with its child flow nested in a box, and lists the child job', async () => {
    const job = runtime.exec('nested', { params: { n: 1 }, jobId: 'nested-1' });
    expect((await job.wait()).outputs['inner.output']).toEqual([{ n: 5 }]);
    await row('nested-1').click(WAIT);
    await page.locator('#job:not([hidden])').waitFor(WAIT);
    await page.locator('#graph .cluster', { hasText: 'steps (subflow of inner)' }).waitFor(WAIT);
    for (const id of ['first', 'inner', 'inner::x', 'inner::y', 'inner::z']) await page.locator(`#graph .node[data-routine="${id}"]`).waitFor(WAIT);
    await expect(page.locator('#graph .node.nested').count()).resolves.toBe(3);
    // first -> inner, x -> y -> z inside the box, and the two mapped edges (inner -> x, z -> inner).
    await expect(page.locator('#graph .edge').count()).resolves.toBe(5);
    await expect(page.locator('#graph .edge.mapped').count()).resolves.toBe(2);
    // The nested nodes sit inside the box.
    const box = await page.locator('#graph .cluster rect').boundingBox();
    const node = await page.locator('#graph .node[data-routine="inner::y"] rect.box').boundingBox();
    expect(box && node && node.x >= box.x && node.y >= box.y && node.x + node.width <= box.x + box.width && node.y + node.height <= box.y + box.height).toBe(true);
    await row('nested-1/inner/1').waitFor(WAIT);
  }, BUDGET);

  it('pause, resume and cancel drive the job', async () => {
    const job = runtime.exec('orders', { params: { n: 1 }, jobId: 'drive-1' });
    await row('drive-1').click(WAIT);
    await waitFor(() => gate.inside === 1);
    await page.locator('#graph .node[data-routine="enrich"].m-running').waitFor(WAIT);

    await page.locator('#actions [data-action="pause"]').click();
    await waitFor(() => job.status === 'paused');
    await statusIs('paused');
    await page.locator('#actions [data-action="resume"]').click();
    await waitFor(() => job.status === 'running');
    await statusIs('running');

    await page.locator('#actions [data-action="cancel"]').click();
    await job.wait();
    expect(job.status).toBe('cancelled');
    await statusIs('cancelled');
    await expect(page.locator('#actions [data-action="cancel"]').isDisabled()).resolves.toBe(true);
    await expect(badge().getAttribute('class')).resolves.toContain('s-cancelled');
  }, BUDGET);

  it('shows a breakpoint, sets one from the graph, and steps one activation at a time', async () => {
    const job = runtime.exec('steps', { params: { n: 1 }, jobId: 'step-1', breakpoints: [{ routine: 'y' }] });
    await waitFor(() => job.status === 'paused');
    await row('step-1').click(WAIT);
    await page.locator('#graph .node[data-routine="y"].held.has-bp').waitFor(WAIT);
    await page.locator('#banner', { hasText: 'breakpoint before y' }).waitFor(WAIT);

    // A breakpoint on z, set by clicking its marker.
    await page.locator('#graph .node[data-routine="z"] .bp').click();
    await waitFor(() => job.breakpoints.some((b) => b.routine === 'z'));
    await page.locator('#graph .node[data-routine="z"].has-bp').waitFor(WAIT);

    await page.locator('#actions [data-action="step"]').click();
    await waitFor(() => job.state.routines.y?.activations === 1 && job.status === 'paused');
    expect(job.state.routines.z?.activations).toBe(0);
    expect(job.pausedAt).toBe('z');
    await page.locator('#graph .node[data-routine="z"].held').waitFor(WAIT);

    await page.locator('#actions [data-action="step"]').click();
    await job.wait();
    expect(job.status).toBe('completed');
    expect(job.state.outputs['z.output']).toEqual([{ n: 4 }]);
    await statusIs('completed');
  }, BUDGET);

  it('starts a job from a flow', async () => {
    const before = runtime.listJobs({ flowId: 'steps' }).length;
    const flow = page.locator('#flows .flow', { hasText: 'steps' });
    await flow.locator('button.run').click();
    await flow.locator('textarea').fill('{"n": 5}');
    await flow.locator('button[type="submit"]').click();
    await waitFor(() => runtime.listJobs({ flowId: 'steps' }).length === before + 1);
    const started = runtime.listJobs({ flowId: 'steps' }).at(-1);
    await started?.wait();
    expect(started?.state.outputs['z.output']).toEqual([{ n: 8 }]);
    await page.locator('#job-id', { hasText: started?.id ?? '?' }).waitFor(WAIT);
  }, BUDGET);

  it('made no request off this machine and logged no error', () => {
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
  });
});
