// The monitor's client for the slotflow HTTP API: JSON requests with the bearer token, and event streams.

const TOKEN_KEY = 'slotflow.token';

/** A token handed in the URL fragment (#token=...) is kept for this tab and removed from the address bar. */
export function takeTokenFromUrl() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

export const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

export class ApiError extends Error {
  constructor(status, name, message) {
    super(message);
    this.status = status;
    this.name = name;
  }
}

let askToken;
/** How the page asks for a token after a 401 (set by the app: a dialog). */
export function onTokenNeeded(ask) {
  askToken = ask;
}

export async function api(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const headers = { accept: 'application/json' };
    if (token()) headers.authorization = `Bearer ${token()}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 401 && attempt === 0 && askToken) {
      const given = await askToken();
      if (given) {
        sessionStorage.setItem(TOKEN_KEY, given);
        continue;
      }
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, data.error?.name ?? 'Error', data.error?.message ?? `${method} ${path}: HTTP ${res.status}`);
    return data;
  }
}

/** Every event type a job stream carries (EventSource needs one listener per named event). */
export const EVENT_TYPES = [
  'job.queued', 'job.started', 'job.paused', 'job.resumed', 'job.completed', 'job.failed', 'job.cancelled', 'job.breakpoint',
  'routine.started', 'routine.completed', 'routine.failed', 'routine.retrying', 'routine.progress',
  'event.emitted', 'cycle.converged', 'cycle.exhausted', 'events.dropped', 'job.warning',
];

/** Opens `/api/events` with `query`; calls `onEvent(event)` per event and `onState('live' | 'down')`. */
export function openEvents(query, onEvent, onState) {
  const params = new URLSearchParams(query);
  if (token()) params.set('token', token());
  const source = new EventSource(`/api/events?${params}`);
  const handle = (message) => {
    try {
      onEvent(JSON.parse(message.data));
    } catch (error) {
      console.warn('slotflow monitor: unreadable event', error);
    }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, handle);
  source.onopen = () => onState?.('live');
  source.onerror = () => onState?.(source.readyState === EventSource.CLOSED ? 'down' : 'connecting');
  return () => source.close();
}
