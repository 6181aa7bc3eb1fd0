/**
 * The REST side of keystonemiddleware: every versioned request carries a token
 * (`X-Auth-Token`, or `Authorization: Bearer`), which is verified before Zaqar's hooks run.
 * No token or a refused one → 401 with `WWW-Authenticate`; the verifier unreachable → 503.
 * The versions document (`/`) stays open, as a discovery document.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isAuthError, type Authenticator, type Caller } from '../../auth/index.js';
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

/** The request's token and its validated identity (auth modes, once the hook passed), or null. */
export function callerOf(request: FastifyRequest): Caller | null {
  const identity = request.zaqarIdentity;
  const token = tokenOf(request);
  return identity === null || token === undefined ? null : { token, identity };
}

export function installAuthHook(app: FastifyInstance, auth: Authenticator): void {
  const unauthorized = (): HttpError =>
    new HttpError(401, 'Unauthorized', 'The request you have made requires authentication.', {
      headers: { 'www-authenticate': auth.wwwAuthenticate },
    });
  const failure = (request: FastifyRequest, err: unknown): HttpError => {
    if (isAuthError(err) && err.kind === 'invalid') return unauthorized();
    request.log.warn({ event: 'auth_unavailable', strategy: auth.strategy, err: isAuthError(err) ? err.message : String(err) }, 'auth: verifier unavailable');
    return new HttpError(503, 'Service temporarily unavailable', 'Authentication service unavailable. Please try again in a few seconds.');
  };
  // A callback hook: a cached validation costs no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.is404 || request.routeOptions.config.routingOnly === true || !pathOf(request).startsWith('/v2')) {
      done();
      return;
    }
    // A pre-signed request is checked by Zaqar's signature hook instead (reference §4.9).
    if (isPreSigned(request)) {
      done();
      return;
    }
    const token = tokenOf(request);
    if (token === undefined) {
      done(unauthorized());
      return;
    }
    const hit = auth.cached?.(token);
    if (hit !== undefined) {
      request.zaqarIdentity = hit;
      done();
      return;
    }
    auth.verify(token).then(
      (identity) => {
        request.zaqarIdentity = identity;
        done();
      },
      (err: unknown) => done(failure(request, err)),
    );
  });
}
