/**
 * Every failure becomes Zaqar's error shape, `{"title", "description"}` with `Vary: Accept`
 * (reference §4.1). Unexpected exceptions are logged at error and answered 500 in that shape;
 * the server never crashes on a request.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isZaqarError } from '../../core/errors.js';
import { HttpError, notFound } from './http-error.js';
import { pyJson } from '../../lib/py-json.js';
import { JSON_TYPE } from './reply.js';

function send(reply: FastifyReply, status: number, body: Record<string, string> | null): void {
  reply.code(status);
  if (body === null) {
    // Falcon's bodiless error (406): `vary`, `content-length`, `content-type`, in that order.
    reply.header('vary', 'Accept').header('content-length', '0').header('content-type', JSON_TYPE);
    void reply.send(Buffer.alloc(0));
    return;
  }
  // A Buffer keeps fastify from appending a charset to Zaqar's plain `application/json`;
  // fastify adds `content-length` last, where Falcon puts it on errors.
  reply.header('content-type', JSON_TYPE).header('vary', 'Accept');
  void reply.send(Buffer.from(pyJson(body)));
}

/** Seconds a client is told to wait before retrying a 503 (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;
/** At most one 503 warn line per server in this window (ms); the ones left out are counted in the next. */
const UNAVAILABLE_LOG_WINDOW_MS = 10_000;

const unavailableLog = new WeakMap<object, { last: number; suppressed: number }>();

/**
 * A 503 is the backend being away, which the outage's own error line already reports: one
 * warn line without a stack per window, with how many were left out since the last one.
 */
function logUnavailable(request: FastifyRequest, code: string): void {
  const now = Date.now();
  const state = unavailableLog.get(request.server) ?? { last: -Infinity, suppressed: 0 };
  unavailableLog.set(request.server, state);
  if (now - state.last < UNAVAILABLE_LOG_WINDOW_MS) {
    state.suppressed += 1;
    return;
  }
  request.log.warn({ event: 'request_unavailable', code, suppressed: state.suppressed }, 'request answered 503: backend unavailable');
  state.last = now;
  state.suppressed = 0;
}

/** Renders any thrown value; returns nothing, the reply is sent. */
export function renderError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (isZaqarError(error)) {
    if (error.status === 503) {
      logUnavailable(request, error.code);
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    } else if (error.status >= 500) request.log.error({ err: error }, 'zaqar error');
    send(reply, error.status, { title: error.title, description: error.description });
    return;
  }
  if (error instanceof HttpError) {
    for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
    const body = error.description === undefined ? { title: error.title } : { title: error.title, description: error.description };
    send(reply, error.status, error.emptyBody ? null : body);
    return;
  }
  renderForeign(error, request, reply);
}

function renderForeign(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const status = (error as Partial<FastifyError> | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    request.log.info({ err: error }, 'request rejected by the HTTP layer');
    const message = error instanceof Error ? error.message : String(error);
    send(reply, status, { title: 'Invalid request', description: message });
    return;
  }
  request.log.error({ err: error }, 'unexpected error');
  send(reply, 500, { title: 'Internal server error', description: 'Unexpected error.' });
}

/** Installs the error handler and the routing 404. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => renderError(error, request, reply));
  app.setNotFoundHandler((request, reply) => renderError(notFound(), request, reply));
}
