/**
 * createServer: the HTTP API, the event stream and the monitor page over one runtime (Hono on Node's http).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { InvalidOptionError, type Runtime } from 'slotflow';
import { apiRoutes, sendJson } from './apiRoutes.js';
import { loadAssets } from './assets.js';
import { RouteNotFoundError, statusOf, UnauthorizedError } from './errors.js';
import { EventHub } from './EventHub.js';
import { HEARTBEAT_MS } from './SseClient.js';

/** Options of `createServer`. */
export interface ServerOptions {
  /** The port to listen on; `0` picks a free one (read it from `server.url`). @default 0 */
  readonly port?: number;
  /**
   * The interface to listen on. Anything but loopback (127.0.0.0/8, ::1, localhost) needs a `token`.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /** When set, every `/api/*` request needs `Authorization: Bearer <token>` (or `?token=`). @default none */
  readonly token?: string;
  /** A comment line on every open event stream this often, so proxies and browsers keep it open. @default 15000 */
  readonly heartbeatMs?: number;
}

/** A running monitor server. */
export interface MonitorServer {
  /** `http://host:port`, the monitor page; the API is under `/api`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Ends every open event stream, stops listening and frees the port. Idempotent. */
  close(): Promise<void>;
}

const KNOWN = ['port', 'host', 'token', 'heartbeatMs'];

/** True for the loopback interfaces: 127.0.0.0/8, ::1 (and its IPv4-mapped forms), `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function checkOptions(runtime: unknown, options: unknown): { port: number; host: string; token: string | undefined; heartbeatMs: number } {
  if (typeof runtime !== 'object' || runtime === null || typeof (runtime as Runtime).exec !== 'function' || typeof (runtime as Runtime).listJobs !== 'function')
    throw new InvalidOptionError('createServer(runtime)', 'a runtime from createRuntime()', runtime);
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) throw new InvalidOptionError('createServer(runtime, options)', 'an options object', options);
  const given = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) if (!KNOWN.includes(key)) throw new InvalidOptionError(`createServer(options).${key}`, `a known option (${KNOWN.map((k) => `'${k}'`).join(', ')})`, given[key]);
  const port = given.port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError('createServer({ port })', 'an integer from 0 to 65535', port);
  const host = given.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new InvalidOptionError('createServer({ host })', 'a host name or address', host);
  const token = given.token;
  if (token !== undefined && (typeof token !== 'string' || token === '')) throw new InvalidOptionError('createServer({ token })', 'a non-empty string', token);
  if (!isLoopback(host) && token === undefined)
    throw new InvalidOptionError('createServer({ host })', `a loopback host (127.0.0.1, ::1, localhost) unless a \`token\` is set: '${host}' lets other machines drive your jobs`, host);
  const heartbeatMs = given.heartbeatMs ?? HEARTBEAT_MS;
  if (typeof heartbeatMs !== 'number' || !Number.isInteger(heartbeatMs) || heartbeatMs < 1 || heartbeatMs > 2 ** 31 - 1) throw new InvalidOptionError('createServer({ heartbeatMs })', 'an integer number of milliseconds from 1 up', heartbeatMs);
  return { port, host, token, heartbeatMs };
}

/**
 * Serves `runtime` over HTTP: the JSON API under `/api`, Server-Sent Events at `/api/events`, and the monitor page
 * at `/`. Resolves once listening.
 * @example
 * const server = await createServer(runtime, { port: 0 });
 * console.log(`monitor: ${server.url}`);
 * await server.close();
 */
export async function createServer(runtime: Runtime, options: ServerOptions = {}): Promise<MonitorServer> {
  const { port, host, token, heartbeatMs } = checkOptions(runtime, options);
  const hub = new EventHub(runtime, heartbeatMs);
  const app = buildApp(runtime, hub, token);
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  await listen(server, port, host);
  return monitorServer(server, hub);
}

/** The Hono app: errors as JSON, the token check in front of `/api/*`, the API routes, then the page's assets. */
function buildApp(runtime: Runtime, hub: EventHub, token: string | undefined): Hono {
  const app = new Hono();
  app.onError((error, c) => sendJson(c, { error: { name: error.name, message: error.message } }, statusOf(error)));
  app.notFound((c) => {
    throw new RouteNotFoundError(c.req.method, c.req.path);
  });
  if (token !== undefined) app.use('/api/*', tokenCheck(digest(token)));
  apiRoutes(app, runtime, hub);
  assetRoutes(app);
  return app;
}

/**
 * The bearer token check (header, or `?token=` for EventSource, which cannot set headers). Digests are compared
 * in constant time so the answer's timing says nothing about how much of a guess was right.
 */
function tokenCheck(expected: Buffer): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const given = header?.startsWith('Bearer ') ? header.slice(7) : c.req.query('token');
    if (given === undefined || given === '') throw new UnauthorizedError(false);
    if (!timingSafeEqual(digest(given), expected)) throw new UnauthorizedError(true);
    await next();
  };
}

/** The monitor page's files, served from memory; any other path is a typed 404. */
function assetRoutes(app: Hono): void {
  const assets = loadAssets();
  app.get('*', (c) => {
    const asset = assets.get(c.req.path);
    if (!asset) throw new RouteNotFoundError(c.req.method, c.req.path);
    return c.body(asset.body.slice(), 200, {
      'content-type': asset.type,
      'cache-control': 'no-cache',
      // The page talks to this server only: nothing it loads or sends may leave the machine.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    });
  });
}

/** Resolves once listening; a listen error (port taken, bad host) rejects instead of crashing the process. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The handle given to the user: where it listens, and an idempotent close that also ends open event streams. */
function monitorServer(server: Server, hub: EventHub): MonitorServer {
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}`,
    port: address.port,
    host: address.address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        hub.closeAll();
        server.close(() => {
          resolve();
        });
        // Keep-alive sockets and streams that have not noticed their end yet.
        server.closeIdleConnections();
        setImmediate(() => {
          server.closeAllConnections();
        });
      });
      return closing;
    },
  };
}
