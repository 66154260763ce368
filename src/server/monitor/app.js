// slotflow monitor: flows, a live job table, and the selected job's graph, timeline, state and events.
import { api, onTokenNeeded, openEvents, takeTokenFromUrl } from './api.js';
import { drawGraph, fitGraph, updateGraph } from './graph.js';
import { drawTimeline, formatMs } from './timeline.js';

const $ = (id) => document.getElementById(id);
const STATUSES = ['running', 'paused', 'idle', 'queued', 'completed', 'failed', 'cancelled'];
const FINAL = new Set(['completed', 'failed', 'cancelled']);
const MAX_ROWS = 300;
const MAX_EVENTS = 300;

const app = {
  flows: new Map(),
  jobs: new Map(),
  filter: { status: 'all', flowId: undefined },
  selected: undefined,
};

// ---------------------------------------------------------------------------------------------- helpers

function toast(message, error = false) {
  const t = $('toast');
  t.textContent = message;
  t.className = `toast${error ? ' error' : ''}`;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

function clock(at) {
  const d = new Date(at);
  return d.toLocaleTimeString([], { hour12: false });
}

function durationOf(job, now) {
  return (job.finishedAt ?? now) - job.startedAt;
}

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

function throttle(fn, ms) {
  let timer;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      last = Date.now();
      fn();
    }, wait);
  };
}

function setConn(state) {
  const conn = $('conn');
  conn.dataset.state = state;
  conn.querySelector('span').textContent = state === 'live' ? 'live' : state === 'down' ? 'disconnected' : 'reconnecting';
}

// ---------------------------------------------------------------------------------------------- flows

function renderFlows() {
  const list = $('flows');
  list.replaceChildren();
  $('flow-count').textContent = String(app.flows.size);
  for (const flow of app.flows.values()) {
    const active = app.filter.flowId === flow.id;
    const form = h(
      'form',
      { class: 'run-form', hidden: true, onsubmit: (e) => startJob(e, flow, form) },
      h('textarea', { name: 'params', spellcheck: 'false', 'aria-label': `params for ${flow.id}` }, '{}'),
      h('div', { class: 'row' }, h('label', {}, h('input', { type: 'checkbox', name: 'keepAlive' }), ' keep alive'), h('button', { class: 'primary small', type: 'submit' }, 'Start job')),
    );
    form.addEventListener('click', (e) => e.stopPropagation());
    const li = h(
      'li',
      { class: 'flow', 'aria-current': String(active), title: active ? 'Show every flow' : `Show only jobs of ${flow.id}` },
      h('span', { class: 'flow-name' }, flow.id),
      h('span', { class: 'flow-sub' }, `${flow.routines.length} routines · ${flow.connections.length} connections${flow.entry ? ` · entry ${flow.entry}` : ''}`),
      h('button', { class: 'small run', type: 'button', onclick: (e) => { e.stopPropagation(); form.hidden = !form.hidden; } }, 'Run…'),
      form,
    );
    li.addEventListener('click', () => {
      app.filter.flowId = active ? undefined : flow.id;
      renderFlows();
      renderJobs();
    });
    list.append(li);
  }
}

async function startJob(e, flow, form) {
  e.preventDefault();
  let params;
  try {
    params = JSON.parse(form.params.value || '{}');
  } catch {
    toast('Params must be a JSON object.', true);
    return;
  }
  try {
    const { id } = await api('POST', '/api/jobs', { flowId: flow.id, params, ...(form.keepAlive.checked ? { keepAlive: true } : {}) });
    form.hidden = true;
    await refreshJobs();
    select(id);
  } catch (error) {
    toast(`${error.name}: ${error.message}`, true);
  }
}

// ---------------------------------------------------------------------------------------------- jobs table

function renderFilters() {
  const counts = { all: app.jobs.size };
  for (const job of app.jobs.values()) counts[job.status] = (counts[job.status] ?? 0) + 1;
  const bar = $('filters');
  bar.replaceChildren();
  for (const status of ['all', ...STATUSES]) {
    if (status !== 'all' && !counts[status] && app.filter.status !== status) continue;
    bar.append(
      h(
        'button',
        { class: `chip s-${status}`, 'aria-pressed': String(app.filter.status === status), 'data-status': status, onclick: () => { app.filter.status = status; renderJobs(); } },
        status === 'all' ? '' : h('span', { class: 'dot' }),
        status,
        h('span', { class: 'n' }, String(counts[status] ?? 0)),
      ),
    );
  }
  const running = counts.running ?? 0;
  $('stats').replaceChildren(
    h('span', {}, h('b', {}, String(app.jobs.size)), ' jobs'),
    h('span', {}, h('b', {}, String(running)), ' running'),
    h('span', {}, h('b', {}, String(counts.failed ?? 0)), ' failed'),
    h('span', {}, h('b', {}, String(app.flows.size)), ' flows'),
  );
}

function visibleJobs() {
  const out = [];
  for (const job of app.jobs.values()) {
    if (app.filter.status !== 'all' && job.status !== app.filter.status) continue;
    if (app.filter.flowId && job.flowId !== app.filter.flowId) continue;
    out.push(job);
  }
  return out.sort((a, b) => b.startedAt - a.startedAt);
}

function renderJobs() {
  renderFilters();
  const jobs = visibleJobs();
  const now = Date.now();
  $('jobs-empty').hidden = jobs.length > 0;
  $('jobs-empty').textContent = app.jobs.size === 0 ? 'No jobs yet. Start one from a flow above, or from your code.' : 'No job matches this filter.';
  $('job-count').textContent = jobs.length > MAX_ROWS ? `${MAX_ROWS} of ${jobs.length}` : String(jobs.length);
  // Rebuilt only when a row changed (a rebuild under the pointer would swallow a click); durations tick on their own.
  const shown = jobs.slice(0, MAX_ROWS);
  const signature = `${app.selected?.id}|${shown.map((job) => `${job.id}:${job.status}:${job.finishedAt ?? ''}`).join(',')}`;
  if (signature === renderJobs.signature) {
    tickDurations();
    return;
  }
  renderJobs.signature = signature;
  const rows = shown.map((job) =>
    h(
      'tr',
      { class: `s-${job.status}`, 'data-job': job.id, 'aria-selected': String(job.id === app.selected?.id), onclick: () => select(job.id) },
      h('td', { class: 'status' }, h('span', { class: 'dot' }), job.status),
      h('td', { class: 'id', title: job.id }, job.id.slice(-8)),
      h('td', { title: job.flowId }, job.flowId),
      h('td', {}, clock(job.startedAt)),
      h('td', { class: 'num duration' }, formatMs(durationOf(job, now))),
    ),
  );
  $('jobs').tBodies[0].replaceChildren(...rows);
}

/** Durations of unfinished jobs tick every second without rebuilding the table. */
function tickDurations() {
  const now = Date.now();
  for (const row of $('jobs').tBodies[0].rows) {
    const job = app.jobs.get(row.dataset.job);
    if (job && !FINAL.has(job.status)) row.querySelector('.duration').textContent = formatMs(durationOf(job, now));
  }
  if (app.selected && !FINAL.has(app.selected.state?.status)) renderMeta();
}

async function refreshJobs() {
  const list = await api('GET', '/api/jobs');
  app.jobs = new Map(list.map((job) => [job.id, job]));
  renderJobs();
}

const STATUS_OF = { 'job.queued': 'queued', 'job.started': 'running', 'job.resumed': 'running', 'job.paused': 'paused', 'job.completed': 'completed', 'job.failed': 'failed', 'job.cancelled': 'cancelled' };

function onJobEvent(event) {
  const status = STATUS_OF[event.type];
  if (!status) return;
  let job = app.jobs.get(event.jobId);
  if (!job) {
    job = { id: event.jobId, flowId: event.flowId, status, startedAt: event.at };
    app.jobs.set(job.id, job);
  }
  job.status = status;
  if (FINAL.has(status)) job.finishedAt = event.at;
  renderJobsSoon();
}
const renderJobsSoon = throttle(renderJobs, 150);

// ---------------------------------------------------------------------------------------------- selected job

function select(id) {
  if (app.selected?.id === id) return;
  app.selected?.close();
  const flowId = app.jobs.get(id)?.flowId;
  const sel = {
    id,
    flow: app.flows.get(flowId),
    state: undefined,
    machines: {},
    breakpoints: new Set(),
    held: undefined,
    running: new Map(),
    progress: new Map(),
    events: [],
    handles: undefined,
    close: () => undefined,
  };
  app.selected = sel;
  for (const row of $('jobs').tBodies[0].rows) row.setAttribute('aria-selected', String(row.dataset.job === id));
  $('placeholder').hidden = true;
  $('job').hidden = false;
  $('events').replaceChildren();
  $('event-count').textContent = '';
  $('banner').hidden = true;
  $('job-id').textContent = id;
  if (sel.flow) sel.handles = drawGraph($('graph'), sel.flow, toggleBreakpoint);
  const refresh = throttle(() => loadJob(sel), 250);
  sel.refresh = refresh;
  sel.close = openEvents({ jobId: id }, (event) => onSelectedEvent(sel, event), (state) => {
    sel.streamState = state;
    setConn(state);
  });
  loadJob(sel);
}

async function loadJob(sel) {
  let detail;
  try {
    detail = await api('GET', `/api/jobs/${encodeURIComponent(sel.id)}`);
  } catch (error) {
    if (app.selected === sel) toast(`${error.name}: ${error.message}`, true);
    return;
  }
  if (app.selected !== sel) return;
  if (!sel.flow || sel.flow.id !== detail.flowId) {
    sel.flow = app.flows.get(detail.flowId);
    if (sel.flow) sel.handles = drawGraph($('graph'), sel.flow, toggleBreakpoint);
  }
  sel.state = detail;
  sel.machines = { ...detail.machines };
  sel.breakpoints = new Set(detail.breakpoints.map((b) => b.routine));
  sel.held = detail.status === 'paused' ? (detail.pausedAt ?? undefined) : undefined;
  for (const [id, m] of Object.entries(sel.machines)) if (m !== 'running') sel.running.delete(id);
  const known = app.jobs.get(sel.id);
  if (known && known.status !== detail.status) {
    known.status = detail.status;
    if (detail.finishedAt !== undefined) known.finishedAt = detail.finishedAt;
    renderJobsSoon();
  }
  renderSelected();
}

function onSelectedEvent(sel, event) {
  if (app.selected !== sel) return;
  const m = sel.machines;
  switch (event.type) {
    case 'routine.started':
      m[event.routineId] = 'running';
      sel.running.set(event.routineId, event.at);
      if (sel.held === event.routineId) sel.held = undefined;
      break;
    case 'routine.completed':
      if (!event.coalesced || m[event.routineId] !== 'running') m[event.routineId] = 'idle';
      sel.running.delete(event.routineId);
      sel.progress.delete(event.routineId);
      break;
    case 'routine.retrying':
      m[event.routineId] = 'backoff';
      sel.running.delete(event.routineId);
      break;
    case 'routine.failed':
      if (event.decision === 'skip') m[event.routineId] = 'skipped';
      else if (event.decision === 'stop') m[event.routineId] = 'stopped';
      sel.running.delete(event.routineId);
      break;
    case 'routine.progress':
      sel.progress.set(event.routineId, event);
      break;
    case 'job.breakpoint':
      sel.held = event.routineId;
      break;
    default:
      break;
  }
  if (STATUS_OF[event.type]) {
    onJobEvent(event);
    if (sel.state) sel.state = { ...sel.state, status: STATUS_OF[event.type] };
  }
  sel.events.push(event);
  if (sel.events.length > MAX_EVENTS) sel.events.splice(0, sel.events.length - MAX_EVENTS);
  appendEvent(event);
  if (sel.state) renderSelected(true);
  sel.refresh();
}

function describeEvent(e) {
  const parts = [];
  if (e.routineId) parts.push(e.routineId);
  if (e.attempt) parts.push(`attempt ${e.attempt + 1}`);
  if (e.durationMs !== undefined) parts.push(formatMs(e.durationMs));
  if (e.event) parts.push(`→ ${e.event}`);
  if (e.decision) parts.push(e.decision);
  if (e.delayMs !== undefined) parts.push(`retry in ${formatMs(e.delayMs)}`);
  if (e.error) parts.push(`${e.error.name}: ${e.error.message}`);
  if (e.consumed) parts.push(`would consume ${Object.entries(e.consumed).map(([s, v]) => `${s} ×${v.length}`).join(', ')}`);
  if (e.total !== undefined) parts.push(`${e.done ?? 0}/${e.total}`);
  if (e.message) parts.push(e.message);
  if (e.edge) parts.push(`${e.edge} (${e.iterations})`);
  if (e.coalesced) parts.push(`(${e.coalesced} in the last 100 ms)`);
  return parts.join(' · ');
}

function appendEvent(e) {
  const list = $('events');
  list.prepend(h('li', { class: `s-${STATUS_OF[e.type] ?? ''}` }, h('span', { class: 't' }, clock(e.at)), h('span', { class: 'ty' }, e.type), h('span', { class: 'd' }, describeEvent(e))));
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  $('event-count').textContent = String(app.selected.events.length);
}

function renderMeta() {
  const s = app.selected?.state;
  if (!s) return;
  const routines = Object.values(s.routines);
  const runs = routines.reduce((n, r) => n + r.activations, 0);
  const errors = routines.reduce((n, r) => n + r.errors, 0);
  const pending = routines.reduce((n, r) => n + Object.values(r.pending).reduce((m, q) => m + q.length, 0), 0);
  const outputs = Object.values(s.outputs).reduce((n, q) => n + q.length, 0);
  $('job-meta').replaceChildren(
    h('span', {}, 'started ', h('b', {}, clock(s.startedAt))),
    h('span', {}, 'duration ', h('b', {}, formatMs((s.finishedAt ?? Date.now()) - s.startedAt))),
    h('span', {}, h('b', {}, String(runs)), ' activations'),
    h('span', {}, h('b', {}, String(errors)), ' errors'),
    h('span', {}, h('b', {}, String(pending)), ' queued'),
    h('span', {}, h('b', {}, String(outputs)), ' outputs'),
  );
}

function renderSelected(fromEvent = false) {
  const sel = app.selected;
  const s = sel.state;
  const status = s.status;
  const badge = $('job-status');
  badge.textContent = status;
  badge.className = `badge s-${status}`;
  $('job-flow').textContent = s.flowId;
  const final = FINAL.has(status);
  for (const button of $('actions').querySelectorAll('button')) {
    const a = button.dataset.action;
    button.disabled = final || (a === 'pause' && (status === 'paused' || status === 'queued')) || (a === 'resume' && status !== 'paused') || (a === 'complete' && status !== 'idle' && status !== 'running');
  }
  renderMeta();
  const banner = $('banner');
  if (status === 'failed' && s.error) {
    banner.className = 'banner error';
    banner.replaceChildren(h('b', {}, s.error.name), ': ', s.error.message);
    banner.hidden = false;
  } else if (status === 'paused') {
    banner.className = 'banner';
    banner.replaceChildren(
      ...(sel.held ? ['Paused at the breakpoint before ', h('code', {}, sel.held), '. '] : ['Paused. ']),
      'Step runs the next activation only; Resume goes on',
      sel.breakpoints.size ? ' to the next breakpoint.' : '.',
    );
    banner.hidden = false;
  } else banner.hidden = true;
  fitGraph($('graph'));
  if (sel.handles) updateGraph(sel.handles, { machines: sel.machines, routines: s.routines, breakpoints: sel.breakpoints, held: status === 'paused' ? sel.held : undefined, progress: sel.progress });
  renderLegend();
  const pane = document.querySelector('.tabs [aria-selected="true"]').dataset.tab;
  if (pane === 'timeline') drawTimeline($('timeline'), sel.flow ? sel.flow.routines.map((r) => r.id) : Object.keys(s.routines), s, sel.running, Date.now());
  if (pane === 'state' && !fromEvent) $('state-json').innerHTML = highlight(JSON.stringify(stripExtras(s), null, 2));
}

function stripExtras(detail) {
  const { machines: _m, breakpoints: _b, pausedAt: _p, ...state } = detail;
  return state;
}

function renderLegend() {
  const legend = $('legend');
  if (legend.childElementCount) return;
  for (const m of ['idle', 'running', 'backoff', 'skipped', 'stopped']) legend.append(h('span', { class: `m-${m}` }, h('i'), m));
}

function highlight(json) {
  const esc = json.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return esc.replace(/("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (match, str, colon, word) => {
    if (str) return colon ? `<span class="k">${str}</span>${colon}` : `<span class="s">${str}</span>`;
    if (word) return `<span class="b">${word}</span>`;
    return `<span class="n">${match}</span>`;
  });
}

async function toggleBreakpoint(routineId) {
  const sel = app.selected;
  if (!sel) return;
  const next = new Set(sel.breakpoints);
  if (next.has(routineId)) next.delete(routineId);
  else next.add(routineId);
  try {
    const res = await api('PUT', `/api/jobs/${encodeURIComponent(sel.id)}/breakpoints`, { breakpoints: [...next].map((routine) => ({ routine })) });
    sel.breakpoints = new Set(res.breakpoints.map((b) => b.routine));
    if (sel.state) renderSelected();
  } catch (error) {
    toast(`${error.name}: ${error.message}`, true);
  }
}

async function act(action) {
  const sel = app.selected;
  if (!sel) return;
  try {
    await api('POST', `/api/jobs/${encodeURIComponent(sel.id)}/${action}`);
  } catch (error) {
    toast(`${error.name}: ${error.message}`, true);
  }
  loadJob(sel);
}

// ---------------------------------------------------------------------------------------------- start

function wire() {
  for (const button of $('actions').querySelectorAll('button')) button.addEventListener('click', () => act(button.dataset.action));
  for (const tab of document.querySelectorAll('.tabs button'))
    tab.addEventListener('click', () => {
      for (const t of document.querySelectorAll('.tabs button')) t.setAttribute('aria-selected', String(t === tab));
      for (const pane of document.querySelectorAll('.pane')) pane.hidden = pane.dataset.pane !== tab.dataset.tab;
      if (app.selected?.state) renderSelected();
    });
  window.addEventListener(
    'resize',
    throttle(() => {
      fitGraph($('graph'));
      if (app.selected?.state) renderSelected();
    }, 200),
  );
  onTokenNeeded(
    () =>
      new Promise((resolve) => {
        const dialog = $('token-dialog');
        dialog.onclose = () => resolve($('token-input').value.trim() || undefined);
        dialog.showModal();
      }),
  );
}

async function main() {
  takeTokenFromUrl();
  wire();
  const flows = await api('GET', '/api/flows');
  app.flows = new Map(flows.map((f) => [f.id, f]));
  renderFlows();
  await refreshJobs();
  setInterval(tickDurations, 1000);
  // The table is read once a second: listening to every job's events would make every job of the runtime build
  // them (a cost per activation); the selected job's own stream is what moves its graph live.
  setInterval(() => {
    if (document.visibilityState === 'hidden') return;
    refreshJobs().then(
      () => setConn(app.selected?.streamState ?? 'live'),
      () => setConn('down'),
    );
  }, 1000);
  const first = visibleJobs()[0];
  if (first && !app.selected) select(first.id);
}

main().catch((error) => toast(`${error.name}: ${error.message}`, true));
