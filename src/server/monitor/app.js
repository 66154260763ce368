// slotflow monitor: flows, a live job table, and the selected job's graph, timeline, state and events.
import { api, onTokenNeeded, takeTokenFromUrl } from './api.js';
import { $, app, setConn, throttle, toast } from './dom.js';
import { fitGraph } from './graph.js';
import { act, renderSelected, select } from './job.js';
import { refreshJobs, renderFlows, tickDurations, visibleJobs } from './jobs.js';

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
