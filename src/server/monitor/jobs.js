// The flow list and the live job table (read from the server once a second).
import { api } from './api.js';
import { $, app, clock, durationOf, FINAL, formatMs, h, MAX_ROWS, STATUSES, throttle, toast } from './dom.js';
import { renderMeta, select } from './job.js';

export function renderFlows() {
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

export function visibleJobs() {
  const out = [];
  for (const job of app.jobs.values()) {
    if (app.filter.status !== 'all' && job.status !== app.filter.status) continue;
    if (app.filter.flowId && job.flowId !== app.filter.flowId) continue;
    out.push(job);
  }
  return out.sort((a, b) => b.startedAt - a.startedAt);
}

export function renderJobs() {
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
export function tickDurations() {
  const now = Date.now();
  for (const row of $('jobs').tBodies[0].rows) {
    const job = app.jobs.get(row.dataset.job);
    if (job && !FINAL.has(job.status)) row.querySelector('.duration').textContent = formatMs(durationOf(job, now));
  }
  if (app.selected && !FINAL.has(app.selected.state?.status)) renderMeta();
}

export async function refreshJobs() {
  const list = await api('GET', '/api/jobs');
  app.jobs = new Map(list.map((job) => [job.id, job]));
  renderJobs();
}

export const STATUS_OF = { 'job.queued': 'queued', 'job.started': 'running', 'job.resumed': 'running', 'job.paused': 'paused', 'job.completed': 'completed', 'job.failed': 'failed', 'job.cancelled': 'cancelled' };

export function onJobEvent(event) {
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
export const renderJobsSoon = throttle(renderJobs, 150);
