// The selected job: its graph, timeline, state and events, live over its own event stream, and its buttons.
import { api, openEvents } from './api.js';
import { $, app, clock, FINAL, formatMs, h, MAX_EVENTS, setConn, throttle, toast } from './dom.js';
import { drawGraph, fitGraph, updateGraph } from './graph.js';
import { onJobEvent, renderJobsSoon, STATUS_OF } from './jobs.js';
import { drawTimeline } from './timeline.js';

export function select(id) {
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
  $('events-empty').hidden = false;
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
  $('events-empty').hidden = true;
}

export function renderMeta() {
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

export function renderSelected(fromEvent = false) {
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

export async function act(action) {
  const sel = app.selected;
  if (!sel) return;
  try {
    await api('POST', `/api/jobs/${encodeURIComponent(sel.id)}/${action}`);
  } catch (error) {
    toast(`${error.name}: ${error.message}`, true);
  }
  loadJob(sel);
}
