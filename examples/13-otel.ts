/**
 * OpenTelemetry tracing (slotflow/otel): `instrument(runtime)` turns job events into spans, one per job and one
 * child per activation attempt.
 *
 * Here the spans go to an in-memory exporter, printed as a tree. In an application, register a real SDK once at
 * startup and leave `tracer` out: `instrument` then uses the global provider's `slotflow` tracer.
 *
 *   import { NodeSDK } from '@opentelemetry/sdk-node';
 *   import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
 *   new NodeSDK({ traceExporter: new OTLPTraceExporter() }).start();
 *   instrument(runtime);
 *
 * (`@opentelemetry/api` is an optional peer dependency of slotflow: only `slotflow/otel` loads it.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanStatusCode, type HrTime } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { filter, firstValueFrom } from 'rxjs';
import { createFlow, createRuntime, defineRoutine } from 'slotflow';
import { instrument } from 'slotflow/otel';

// --- a crawl: fetch a page (the first call fails once, then a retry succeeds), parse it, store it -------------

let fetchCalls = 0;
const fetchPage = defineRoutine({
  name: 'fetch',
  slots: ['url'],
  events: { page: ['url', 'html'] },
  onError: { retry: { max: 2, backoffMs: 10 } },
  async run({ slots, emit, signal }) {
    await sleep(5, undefined, { signal });
    if (++fetchCalls === 1) throw new Error('connection reset');
    for (const { url } of slots.url) emit('page', { url, html: `<title>${String(url)}</title>` });
  },
});

const parse = defineRoutine({
  name: 'parse',
  slots: ['page'],
  events: { doc: ['url', 'title'] },
  run({ slots, emit }) {
    for (const { url, html } of slots.page) emit('doc', { url, title: String(html).replace(/<\/?title>/g, '') });
  },
});

const store = defineRoutine({
  name: 'store',
  slots: ['doc'],
  events: { stored: ['url'] },
  async run({ slots, emit, signal }) {
    // A slow disk for the second url: that job is cancelled while it writes.
    await sleep(slots.doc.some((d) => d.url === 'b.example') ? 60_000 : 5, undefined, { signal });
    for (const { url } of slots.doc) emit('stored', { url });
  },
});

const crawl = createFlow('crawl')
  .add('fetch', fetchPage)
  .add('parse', parse)
  .add('store', store)
  .connect('fetch.page', 'parse.page')
  .connect('parse.doc', 'store.doc');

// --- tracing ---------------------------------------------------------------------------------------------------

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

await using runtime = createRuntime();
const tracing = instrument(runtime, { tracer: provider.getTracer('example') });

const first = await runtime.exec(crawl, { params: { url: 'a.example' }, jobId: 'crawl-1' }).wait();
console.log(`crawl-1: ${first.status}`);

const second = runtime.exec(crawl, { params: { url: 'b.example' }, jobId: 'crawl-2' });
await firstValueFrom(second.events$.pipe(filter((e) => e.type === 'routine.started' && e.routineId === 'store')));
second.cancel('user pressed stop');
console.log(`crawl-2: ${(await second.wait()).status}`);
console.log(`open spans after both jobs: ${tracing.openSpans}`);
tracing.unsubscribe();

// --- the span tree: ids replaced by structure -------------------------------------------------------------------

const ms = (time: HrTime): number => time[0] * 1000 + time[1] / 1e6;
const spans = exporter.getFinishedSpans();
const byStart = (a: ReadableSpan, b: ReadableSpan) => ms(a.startTime) - ms(b.startTime);

function describe(span: ReadableSpan): string {
  const parts = [span.name, `${Math.round(ms(span.duration))} ms`];
  const attempt = span.attributes['slotflow.activation.attempt'];
  if (attempt !== undefined) parts.splice(1, 0, `attempt ${String(attempt)}`);
  const status = span.attributes['slotflow.job.status'];
  if (status !== undefined) parts.splice(1, 0, `job ${String(span.attributes['slotflow.job.id'])}`, `status ${String(status)}`);
  if (span.status.code === SpanStatusCode.ERROR) parts.push(`ERROR "${span.status.message ?? ''}"`);
  const decision = span.attributes['slotflow.activation.decision'];
  if (decision !== undefined) parts.push(`decision ${String(decision)}`);
  if (span.attributes['slotflow.activation.cancelled'] === true) parts.push('ended with its job');
  return parts.join(', ');
}

for (const job of spans.filter((s) => s.parentSpanContext === undefined).sort(byStart)) {
  console.log(describe(job));
  const reason = (name: string) => job.events.find((e) => e.name === name)?.attributes?.['slotflow.cancel.reason'];
  console.log(`  events: ${job.events.map((e) => (reason(e.name) === undefined ? e.name : `${e.name} (${String(reason(e.name))})`)).join(', ')}`);
  const children = spans.filter((s) => s.parentSpanContext?.spanId === job.spanContext().spanId).sort(byStart);
  children.forEach((child, i) => {
    console.log(`  ${i === children.length - 1 ? '└─' : '├─'} ${describe(child)}`);
  });
}
const jobIdOf = (span: ReadableSpan | undefined) => span?.attributes['slotflow.job.id'];
const nested = spans
  .filter((s) => s.parentSpanContext !== undefined)
  .every((s) => jobIdOf(spans.find((p) => p.spanContext().spanId === s.parentSpanContext?.spanId)) === jobIdOf(s));
console.log(`${spans.length} spans; every activation span's parent is its job's span: ${String(nested)}`);
