/**
 * Takes the monitor screenshots in docs/images/ (monitor.png at 1400x900, monitor-narrow.png at 420 px wide): a
 * demo runtime with two flows and a dozen jobs in every status, served by slotflow/server, photographed by
 * headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM=path).
 *
 *   npx tsx scripts/monitor-screenshot.ts [outDir]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createFlow, createRuntime, defineRoutine, policies } from 'slotflow';
import { createServer } from 'slotflow/server';

const outDir = process.argv[2] ?? 'docs/images';
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

const step = (name: string, ms: number, events: string[] = ['output'], fail?: (n: number) => boolean) =>
  defineRoutine({
    name,
    slots: ['input'],
    events: Object.fromEntries(events.map((e) => [e, ['n']])),
    async run({ slots, emit, signal }) {
      const n = (slots.input[0] as { n?: number } | undefined)?.n ?? 0;
      await sleep(ms, signal);
      if (fail?.(n)) throw new Error(`upstream answered 503 for order ${n}`);
      for (const e of events) emit(e, { n });
    },
  });

const orders = createFlow('orders')
  .add('fetch', step('http.fetch', 500, ['output']))
  .add('parse', step('json.parse', 300, ['valid', 'audit']))
  .add('enrich', step('crm.enrich', 900, ['output'], (n) => n % 5 === 3), { onError: { retry: { max: 2, backoffMs: 4000 } } })
  .add('score', step('risk.score', 700, ['output']))
  .add('audit', step('audit.log', 200, []), { policy: policies.batch(2) })
  .add('store', step('pg.insert', 600, []))
  .connect('fetch.output', 'parse.input')
  .connect('parse.valid', 'enrich.input')
  .connect('parse.audit', 'audit.input')
  .connect('enrich.output', 'score.input')
  .connect('score.output', 'store.input')
  .entry('fetch', 'input');

const reindex = createFlow('reindex')
  .add('scan', step('s3.scan', 1500, ['output']))
  .add('embed', step('embed.batch', 6000, ['output']))
  .add('upsert', step('vector.upsert', 900, []))
  .connect('scan.output', 'embed.input')
  .connect('embed.output', 'upsert.input')
  .entry('scan', 'input');

const runtime = createRuntime({ concurrency: 8 });
runtime.register(orders).register(reindex);
const server = await createServer(runtime, { port: 0 });
const userDataDir = mkdtempSync(join(tmpdir(), 'slotflow-shot-'));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
  deviceScaleFactor: 1,
  colorScheme: (process.env.SCHEME as 'dark' | 'light' | undefined) ?? 'dark',
});
try {
  for (let n = 1; n <= 6; n++) runtime.exec('orders', { params: { n } });
  runtime.exec('reindex', { params: { n: 1 } });
  const failing = runtime.exec('orders', { params: { n: 8 } });
  failing.fail(new Error('card processor rejected the batch'));
  runtime.exec('orders', { params: { n: 9 } }).cancel('superseded');
  await sleep(2500);
  runtime.exec('orders', { params: { n: 3 } }); // enrich fails and backs off
  runtime.exec('reindex', { params: { n: 2 } });
  const held = runtime.exec('orders', { params: { n: 14 }, breakpoints: [{ routine: 'score' }] });
  await sleep(1000);
  for (let n = 10; n <= 12; n++) runtime.exec('orders', { params: { n } });
  await sleep(1100);
  runtime.exec('orders', { params: { n: 15 } });
  await sleep(300);

  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.error(`page ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => {
    console.error(`page error: ${error.message}`);
  });
  await page.goto(server.url);
  await page.locator(`tr[data-job="${held.id}"]`).click();
  await page.locator('.node.held').waitFor({ timeout: 10_000 }).catch(async (error: unknown) => {
    await page.screenshot({ path: join(outDir, 'monitor-failed.png') });
    throw error;
  });
  await sleep(600);
  await page.screenshot({ path: join(outDir, 'monitor.png') });
  await page.setViewportSize({ width: 420, height: 900 });
  await sleep(400);
  await page.screenshot({ path: join(outDir, 'monitor-narrow.png'), fullPage: true });
  console.log(`wrote ${join(outDir, 'monitor.png')} and monitor-narrow.png`);
} finally {
  await browser.close();
  await server.close();
  await runtime.shutdown({ wait: false });
  rmSync(userDataDir, { recursive: true, force: true });
}
