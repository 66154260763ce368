// The activation timeline: one lane per routine, one bar per activation (from the job's history), coloured by
// outcome; activations running now are drawn up to the present.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent.appendChild(node);
  return node;
}

export function formatMs(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${Math.round((ms % 60_000) / 1000)}s`;
}

/** `running`: routineId -> the start time of its activation running now. */
export function drawTimeline(svg, routineIds, state, running, now) {
  svg.replaceChildren();
  const width = Math.max(svg.clientWidth || svg.parentElement.clientWidth - 32, 280);
  const labelW = Math.min(140, width * 0.28);
  const lane = 20;
  const top = 22;
  const height = top + routineIds.length * lane + 6;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('height', String(height));
  const history = state.history ?? [];
  const end = state.finishedAt ?? now;
  const start = state.startedAt;
  if (history.length === 0 && running.size === 0) {
    el('text', { x: 0, y: 16, class: 'empty' }, svg).textContent = 'No activations yet.';
    return;
  }
  const span = Math.max(end - start, 1);
  const plotW = width - labelW - 8;
  const xOf = (t) => labelW + ((t - start) / span) * plotW;
  const ticks = plotW < 360 ? 2 : 4;
  for (let i = 0; i <= ticks; i++) {
    const x = labelW + (plotW * i) / ticks;
    el('line', { x1: x, x2: x, y1: top - 6, y2: height, class: 'tick' }, svg);
    const t = el('text', { x, y: 11, class: 'axis', 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle' }, svg);
    t.textContent = `+${formatMs((span * i) / ticks)}`;
  }
  routineIds.forEach((id, i) => {
    const y = top + i * lane;
    el('rect', { x: labelW, y: y + 3, width: plotW, height: lane - 6, class: 'lane', rx: 3 }, svg);
    const label = el('text', { x: labelW - 8, y: y + lane / 2 + 4, class: 'lane-label', 'text-anchor': 'end' }, svg);
    label.textContent = id.length > 18 ? `${id.slice(0, 17)}…` : id;
  });
  const rowOf = new Map(routineIds.map((id, i) => [id, i]));
  for (const record of history) {
    const row = rowOf.get(record.routineId);
    if (row === undefined) continue;
    const x = xOf(record.startedAt);
    const w = Math.max(xOf(record.finishedAt) - x, 2);
    const bar = el('rect', { x, y: top + row * lane + 5, width: w, height: lane - 10, class: `bar o-${record.outcome}` }, svg);
    el('title', {}, bar).textContent = `${record.routineId} attempt ${record.attempt + 1}: ${record.outcome}, ${formatMs(record.durationMs)}${record.error ? `\n${record.error.name}: ${record.error.message}` : ''}`;
  }
  for (const [id, since] of running) {
    const row = rowOf.get(id);
    if (row === undefined) continue;
    const x = xOf(since);
    el('rect', { x, y: top + row * lane + 5, width: Math.max(xOf(end) - x, 2), height: lane - 10, class: 'bar o-running' }, svg);
  }
}
