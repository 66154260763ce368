// The monitor's shared state and small DOM helpers.
import { formatMs } from './timeline.js';

export const $ = (id) => document.getElementById(id);
export const STATUSES = ['running', 'paused', 'idle', 'queued', 'completed', 'failed', 'cancelled'];
export const FINAL = new Set(['completed', 'failed', 'cancelled']);
export const MAX_ROWS = 300;
export const MAX_EVENTS = 300;
export const app = {
  flows: new Map(),
  jobs: new Map(),
  filter: { status: 'all', flowId: undefined },
  selected: undefined,
};

export function toast(message, error = false) {
  const t = $('toast');
  t.textContent = message;
  t.className = `toast${error ? ' error' : ''}`;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

export function clock(at) {
  const d = new Date(at);
  return d.toLocaleTimeString([], { hour12: false });
}

export function durationOf(job, now) {
  return (job.finishedAt ?? now) - job.startedAt;
}

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

export function throttle(fn, ms) {
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

export function setConn(state) {
  const conn = $('conn');
  conn.dataset.state = state;
  conn.querySelector('span').textContent = state === 'live' ? 'live' : state === 'down' ? 'disconnected' : 'reconnecting';
}


export { formatMs };
