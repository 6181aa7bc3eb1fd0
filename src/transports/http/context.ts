/**
 * Per-request state the before-hooks establish, and the route config flag that exempts the
 * routing responders (405, OPTIONS) from them.
 */
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../../auth/index.js';
import type { RequestContext } from '../../core/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the before-hooks on every versioned route. */
    zaqarContext: RequestContext | null;
    /** The token's identity, set by the auth hook; null in noauth mode. */
    zaqarIdentity: Identity | null;
  }
  interface FastifyContextConfig {
    /** Routing responders (405 / OPTIONS) skip Zaqar's before-hooks, as unrouted paths do. */
    routingOnly?: boolean;
  }
}

/** The caller's project and Client-ID; only called on routes behind the before-hooks. */
export function ctxOf(request: FastifyRequest): RequestContext {
  const ctx = request.zaqarContext;
  if (ctx === null) throw new Error('request context missing: route is not behind the before-hooks');
  return ctx;
}

/** The request path without its query string. */
export function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
}
