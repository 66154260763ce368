/**
 * slotflow/server: watch and drive a runtime's jobs over HTTP. A JSON API, Server-Sent Events, and a monitor page
 * that works offline (every asset is served by the package). Hono is loaded by this subpath only, so an
 * application that does not serve never loads it.
 *
 * Everything here imports the core through the public `slotflow` entry, so it shares the application's runtime.
 */
export { createServer, isLoopback, type MonitorServer, type ServerOptions } from './createServer.js';
export { JobNotFoundError, RequestError, RouteNotFoundError, UnauthorizedError } from './errors.js';
export type { FlowInfo, JobSummary, MachineState } from './describe.js';
