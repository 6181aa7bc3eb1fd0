/**
 * CORS for the REST API (`CORS_ORIGINS`): lets a browser page on another origin call it.
 *
 * A hook of our own rather than @fastify/cors: that plugin adds its hook when the plugin tree
 * loads, after Zaqar's before-hooks and the auth hook, which would answer a preflight (no
 * Client-ID, no token: browsers send neither) with 400 or 401 first. This hook is installed
 * before them and answers preflights itself.
 */
import type { FastifyInstance } from 'fastify';

const ALLOWED_HEADERS = [
  'Client-ID',
  'X-Project-ID',
  'X-Auth-Token',
  'Authorization',
  'Content-Type',
  'Accept',
  'URL-Signature',
  'URL-Expires',
  'URL-Methods',
  'URL-Paths',
].join(', ');
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const EXPOSED_HEADERS = 'Location, Content-Location, Retry-After';
/** Browsers cache a preflight answer this long (seconds). */
const MAX_AGE = '600';

/** `*`, or a comma-separated list of exact origins (`https://ui.example.org`). */
export function parseCorsOrigins(text: string | undefined): '*' | ReadonlySet<string> | null {
  const list = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return null;
  if (list.includes('*')) return '*';
  return new Set(list.map((o) => o.replace(/\/+$/, '')));
}

export function installCors(app: FastifyInstance, origins: '*' | ReadonlySet<string>): void {
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined) {
      done();
      return;
    }
    const allowed = origins === '*' || origins.has(origin);
    reply.header('vary', 'Origin');
    if (!allowed) {
      done(); // no CORS headers: the browser refuses the answer
      return;
    }
    reply.header('access-control-allow-origin', origins === '*' ? '*' : origin);
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (!preflight) {
      reply.header('access-control-expose-headers', EXPOSED_HEADERS);
      done();
      return;
    }
    void reply
      .code(204)
      .header('access-control-allow-methods', ALLOWED_METHODS)
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', MAX_AGE)
      .send();
  });
}
