/**
 * The HTTP server's own errors, sent as `{ error: { name, message } }` with the status each one names.
 */
import { SlotflowError } from 'slotflow';

/** `GET /api/jobs/:id` (and every job route) for an id the runtime does not know (or no longer retains). 404. */
export class JobNotFoundError extends SlotflowError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(readonly jobId: string) {
    super(`No job '${jobId}' in this runtime (finished jobs are kept up to the runtime's \`retain\` limit).`);
  }
}

/** An `/api/*` request without the server's token, or with another one. 401. */
export class UnauthorizedError extends SlotflowError {
  readonly code = 'UNAUTHORIZED';
  constructor(readonly given: boolean) {
    super(given ? 'The token does not match this server\'s token.' : 'This server needs a token: send `Authorization: Bearer <token>` (or `?token=` for EventSource).');
  }
}

/** A request whose body or query is not what the route takes (each problem named by its path). 400. */
export class RequestError extends SlotflowError {
  readonly code = 'BAD_REQUEST';
  constructor(
    readonly route: string,
    readonly problems: readonly string[],
  ) {
    super(`Bad request to ${route}: ${problems.join('; ')}.`);
  }
}

/** No route for this method and path. 404. */
export class RouteNotFoundError extends SlotflowError {
  readonly code = 'ROUTE_NOT_FOUND';
  constructor(
    readonly method: string,
    readonly path: string,
  ) {
    super(`No route ${method} ${path}; the API lives under /api (GET /api/flows, /api/jobs, /api/jobs/:id, /api/metrics, /api/events).`);
  }
}

/** The HTTP status an error is sent with. */
export function statusOf(error: unknown): 400 | 401 | 404 | 409 | 500 {
  if (!(error instanceof Error)) return 500;
  switch (error.name) {
    case 'UnauthorizedError':
      return 401;
    case 'JobNotFoundError':
    case 'FlowNotFoundError':
    case 'RouteNotFoundError':
      return 404;
    case 'JobFinishedError':
    case 'RuntimeClosedError':
      return 409;
    default:
      return error instanceof SlotflowError ? 400 : 500;
  }
}
