// The flow graph: dagre lays it out once per flow; each update only changes classes and text.
import dagre from '/vendor/dagre.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 184;
const H = 78;

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, x, y, cls, content) {
  const t = el('text', { x, y, class: cls }, parent);
  t.textContent = content;
  return t;
}

function clip(s, n) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Draws `flow` into `svg`; returns the per-routine handles `update` changes. */
export function drawGraph(svg, flow, onToggleBreakpoint) {
  svg.replaceChildren();
  const { g, edges, nodes, clusters } = chooseLayout(svg, flow);
  const { width, height } = g.graph();
  svg.setAttribute('viewBox', `0 0 ${Math.max(width, 200)} ${Math.max(height, 120)}`);
  svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  svg.dataset.width = String(width);
  svg.dataset.height = String(height);
  fitGraph(svg);
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M0,1 L9,5 L0,9 z' }, marker);
  // Layers in paint order: clusters behind edges, edges behind nodes.
  drawClusters(el('g', { class: 'clusters' }, svg), g, clusters);
  const handles = { nodes: new Map(), edges: drawEdges(el('g', { class: 'edges' }, svg), g, edges) };
  const nodeLayer = el('g', { class: 'nodes' }, svg);
  for (const node of nodes) {
    const handle = drawNode(nodeLayer, g, node, onToggleBreakpoint);
    // Nested routines are drawn, not coloured: their state is that of the child jobs (listed with the jobs).
    if (handle) handles.nodes.set(node.r.id, handle);
  }
  return handles;
}

/** Left to right or top to bottom, whichever shows the flow larger in its box. */
function chooseLayout(svg, flow) {
  const box = svg.parentElement;
  const narrow = matchMedia('(max-width: 860px)').matches;
  const fit = (graph) => (narrow ? box.clientWidth / graph.graph().width : Math.min(box.clientWidth / graph.graph().width, box.clientHeight / graph.graph().height));
  const wide = layout(flow, 'LR');
  const tall = layout(flow, 'TB');
  return fit(tall.g) > fit(wide.g) * 1.05 ? tall : wide;
}

/** A subflow's child flow: a box around its routines, behind everything else. */
function drawClusters(layer, g, clusters) {
  for (const cluster of clusters) {
    const n = g.node(cluster.id);
    const group = el('g', { class: 'cluster', 'data-subflow': cluster.id }, layer);
    el('rect', { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 9 }, group);
    text(group, n.x - n.width / 2 + 10, n.y - n.height / 2 + 15, 'label', clip(cluster.label, Math.floor(n.width / 6.6)));
  }
}

/** The connections, each with its label; returns the edge handles `update` marks as taken. */
function drawEdges(layer, g, edges) {
  const handles = [];
  for (const { c, name, from, to, label } of edges) {
    const e = g.edge(from, to, name);
    const group = el('g', { class: `edge${c.maxIterations ? ' bounded' : ''}${c.mapped ? ' mapped' : ''}` }, layer);
    el('path', { d: smooth(e.points), 'marker-end': 'url(#arrow)' }, group);
    const lw = label.length * 6.4 + 8;
    el('rect', { x: e.x - lw / 2, y: e.y - 8, width: lw, height: 16, rx: 4 }, group);
    text(group, e.x, e.y + 3.5, '', label).setAttribute('text-anchor', 'middle');
    const title = el('title', {}, group);
    title.textContent = `${c.from} → ${c.to}${c.maxIterations ? ` (at most ${c.maxIterations} times)` : ''}`;
    handles.push({ group, from, to });
  }
  return handles;
}

/** One routine's box; returns its handle, or undefined for a nested routine (it is not coloured). */
function drawNode(layer, g, { id, r, nested }, onToggleBreakpoint) {
  const n = g.node(id);
  const x = n.x - W / 2;
  const y = n.y - H / 2;
  const group = el('g', { class: `node m-idle${nested ? ' nested' : ''}`, transform: `translate(${x},${y})`, 'data-routine': id }, layer);
  el('rect', { class: 'box', width: W, height: H, rx: 7 }, group);
  el('rect', { class: 'rail', x: 0, y: 8, width: 3, height: H - 16, rx: 1.5 }, group);
  text(group, 14, 21, 'title', clip(r.id, 18));
  const state = text(group, W - 12, 21, 'state', nested ? '' : 'idle');
  state.setAttribute('text-anchor', 'end');
  text(group, 14, 37, 'sub', clip(r.subflow ? `subflow ${r.subflow.flow.id} · ${r.policy}` : `${r.type} · ${r.policy}`, 28));
  const meta = text(group, 14, 54, 'meta', '');
  const queues = el('g', { class: 'q', transform: `translate(14, 60)` }, group);
  el('rect', { class: 'progress-bg', x: 0, y: H - 3, width: W, height: 3 }, group).setAttribute('visibility', 'hidden');
  const bar = el('rect', { class: 'progress', x: 0, y: H - 3, width: 0, height: 3 }, group);
  // A routine of a subflow's child flow runs in child jobs: breakpoints are the parent job's, so it has none.
  if (!nested) drawBreakpoint(group, r.id, onToggleBreakpoint);
  const title = el('title', {}, group);
  title.textContent = `${r.id}: ${r.type}\nslots: ${r.slots.join(', ')}\nevents: ${r.events.join(', ') || '(none)'}\npolicy: ${r.policy}${r.subflow ? `\nsubflow: ${r.subflow.flow.id}` : ''}`;
  return nested ? undefined : { group, state, meta, queues, bar, slots: r.slots };
}

/** The breakpoint toggle of a routine: a button for mouse and keyboard alike. */
function drawBreakpoint(group, routineId, onToggleBreakpoint) {
  const bp = el('g', { class: 'bp', transform: `translate(${W - 12}, ${H - 13})`, role: 'button', tabindex: 0, 'aria-label': `breakpoint on ${routineId}` }, group);
  el('circle', { r: 5.5 }, bp);
  const bpTitle = el('title', {}, bp);
  bpTitle.textContent = 'Pause before this routine runs (breakpoint)';
  bp.addEventListener('click', (e) => {
    e.stopPropagation();
    onToggleBreakpoint(routineId);
  });
  bp.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') onToggleBreakpoint(routineId);
  });
}

/**
 * Fits the graph to its box, but never below 65% of its size (text stays readable; a large flow scrolls) nor above
 * 115% (a small flow does not turn into a poster).
 */
export function fitGraph(svg) {
  const box = svg.parentElement;
  const width = Number(svg.dataset.width);
  const height = Number(svg.dataset.height);
  if (!width || !box.clientWidth) return;
  // A narrow screen stacks everything: the graph takes the height it needs at the width it has.
  const narrow = matchMedia('(max-width: 860px)').matches;
  const room = narrow ? Infinity : (box.clientHeight - 2) / height;
  const scale = Math.max(0.65, Math.min(1.15, (box.clientWidth - 2) / width, room));
  svg.style.width = `${Math.max(width * scale, box.clientWidth - 2)}px`;
  svg.style.height = `${narrow ? height * scale : Math.max(height * scale, box.clientHeight - 2)}px`;
}

/** Separates a subflow routine's id from its child flow's routine ids in node ids (`etl::load`). */
const NESTED = '::';

function layout(flow, rankdir) {
  const g = new dagre.graphlib.Graph({ multigraph: true, compound: true });
  g.setGraph({ rankdir, nodesep: rankdir === 'LR' ? 26 : 40, ranksep: rankdir === 'LR' ? 36 : 28, edgesep: 14, marginx: 24, marginy: 24 });
  g.setDefaultEdgeLabel(() => ({}));
  const out = { edges: [], nodes: [], clusters: [] };
  addFlow(g, flow, '', undefined, out);
  dagre.layout(g);
  return { g, ...out };
}

/** Adds a flow's routines and connections; a subflow routine's child flow goes in a cluster of its own, recursively. */
function addFlow(g, flow, prefix, cluster, out) {
  const edge = (c, from, to, label) => {
    const name = prefix + c.name;
    g.setEdge(from, to, { label, width: label.length * 6.4 + 10, height: 16, labelpos: 'c' }, name);
    out.edges.push({ c, name, from, to, label });
  };
  for (const r of flow.routines) {
    const id = prefix + r.id;
    g.setNode(id, { width: W, height: H });
    if (cluster) g.setParent(id, cluster);
    out.nodes.push({ id, r, nested: cluster !== undefined });
    if (!r.subflow) continue;
    const child = `${id}${NESTED}`;
    const box = `${child}flow`;
    g.setNode(box, { paddingTop: 28 });
    if (cluster) g.setParent(box, cluster);
    out.clusters.push({ id: box, label: `${r.subflow.flow.id} (subflow of ${r.id})` });
    addFlow(g, r.subflow.flow, child, box, out);
    for (const [slot, target] of Object.entries(r.subflow.slots)) {
      const [to, childSlot] = splitRef(target);
      edge({ name: `${r.id}.${slot}->${target}`, from: `${r.id}.${slot}`, to: target, mapped: true }, id, child + to, slot === childSlot ? slot : `${slot} → ${childSlot}`);
    }
    for (const [event, source] of Object.entries(r.subflow.events)) {
      const [from, childEvent] = splitRef(source);
      edge({ name: `${source}->${r.id}.${event}`, from: source, to: `${r.id}.${event}`, mapped: true }, child + from, id, event === childEvent ? event : `${childEvent} → ${event}`);
    }
  }
  for (const c of flow.connections) {
    const [from, event] = splitRef(c.from);
    const [to, slot] = splitRef(c.to);
    edge(c, prefix + from, prefix + to, event === slot ? event : `${event} → ${slot}`);
  }
}

function splitRef(ref) {
  const i = ref.lastIndexOf('.');
  return [ref.slice(0, i), ref.slice(i + 1)];
}

/** A path through dagre's points with rounded corners. */
function smooth(points) {
  if (points.length < 3) return `M${points.map((p) => `${p.x},${p.y}`).join(' L')}`;
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const q = points[i + 1];
    d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
  }
  const last = points[points.length - 1];
  return `${d} L${last.x},${last.y}`;
}

/**
 * Colours each routine by its machine state and shows its queues, counts and progress.
 * `view`: { machines, routines (JobState.routines), breakpoints: Set, held: routineId | undefined, progress: Map }.
 */
export function updateGraph(handles, view) {
  for (const [id, h] of handles.nodes) {
    const machine = view.machines[id] ?? 'idle';
    const routine = view.routines[id] ?? { activations: 0, errors: 0, pending: {} };
    h.group.setAttribute('class', `node m-${machine}${view.breakpoints.has(id) ? ' has-bp' : ''}${view.held === id ? ' held' : ''}`);
    h.state.textContent = view.held === id ? 'breakpoint' : machine;
    const errors = routine.errors ? ` · ${routine.errors} error${routine.errors === 1 ? '' : 's'}` : '';
    h.meta.textContent = `${routine.activations} run${routine.activations === 1 ? '' : 's'}${errors}`;
    h.queues.replaceChildren();
    let x = 0;
    for (const slot of h.slots) {
      const n = routine.pending?.[slot]?.length ?? 0;
      if (!n) continue;
      const label = `${clip(slot, 12)} ${n}`;
      const w = label.length * 6.3 + 8;
      if (x + w > W - 40) break;
      el('rect', { class: 'qbg', x, y: -1, width: w, height: 14, rx: 3 }, h.queues);
      text(h.queues, x + 4, 9.5, '', label);
      x += w + 4;
    }
    const p = view.progress.get(id);
    const bg = h.bar.previousSibling;
    if (p && p.total > 0 && machine === 'running') {
      bg.setAttribute('visibility', 'visible');
      h.bar.setAttribute('width', String(Math.min(1, p.done / p.total) * W));
    } else {
      bg.setAttribute('visibility', 'hidden');
      h.bar.setAttribute('width', '0');
    }
  }
  for (const e of handles.edges) e.group.classList.toggle('hot', view.machines[e.from] === 'running');
}
