/**
 * The REST side of keystonemiddleware: every versioned request carries a token
 * (`X-Auth-Token`, or `Authorization: Bearer`), which is verified before Zaqar's hooks run.
 * No token or a refused one → 401 with `WWW-Authenticate`; the verifier unreachable → 503.
 * The versions document (`/`) stays open, as a discovery document.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isAuthError, type Authenticator } from '../../auth/index.js';
import { pathOf } from './context.js';
import { isPreSigned } from './hooks.js';
import { HttpError } from './http-error.js';

/** The caller's token, or undefined. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const x = request.headers['x-auth-token'];
  const direct = Array.isArray(x) ? x[x.length - 1] : x;
  if (direct !== undefined && direct !== '') return direct;
  const authz = request.headers.authorization;
  const m = authz === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authz);
  return m?.[1];
}

export function installAuthHook(app: FastifyInstance, auth: Authenticator): void {
  const unauthorized = (): HttpError =>
    new HttpError(401, 'Unauthorized', 'The request you have made requires authentication.', {
      headers: { 'www-authenticate': auth.wwwAuthenticate },
    });
  app.addHook('onRequest', async (request) => {
    if (request.is404 || request.routeOptions.config.routingOnly === true) return;
    if (!pathOf(request).startsWith('/v2')) return;
    // A pre-signed request is checked by Zaqar's signature hook instead (reference §4.9).
    if (isPreSigned(request)) return;
    const token = tokenOf(request);
    if (token === undefined) throw unauthorized();
    try {
      request.zaqarIdentity = await auth.verify(token);
    } catch (err) {
      if (isAuthError(err) && err.kind === 'invalid') throw unauthorized();
      request.log.warn({ event: 'auth_unavailable', strategy: auth.strategy, err: isAuthError(err) ? err.message : String(err) }, 'auth: verifier unavailable');
      throw new HttpError(503, 'Service temporarily unavailable', 'Authentication service unavailable. Please try again in a few seconds.');
    }
  });
}
