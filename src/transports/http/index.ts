/**
 * The Zaqar REST API v2 on fastify (reference §4). `createHttpServer` builds a ready-to-listen
 * instance; the caller owns `listen()` and `close()`.
 */
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { installBodyParser } from './body.js';
import type { HttpDeps } from './deps.js';
import { installCors } from './cors.js';
import { installErrorHandling, renderError } from './error-handler.js';
import { pyJson } from '../../lib/py-json.js';
import { installAuthHook } from './auth-hook.js';
import { beforeHooks } from './hooks.js';
import { RequestLogger } from './request-logger.js';
import { registerClaimRoutes } from './routes/claims.js';
import { registerHomeRoutes } from './routes/home.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerQueueRoutes } from './routes/queues.js';
import { registerSchemaRoutes } from './routes/schemas.js';
import { registerSubscriptionRoutes } from './routes/subscriptions.js';
import './context.js';

export type { HttpDeps } from './deps.js';

/** Bodies above this are never read; routes with a Zaqar size rule reject them by declared length. */
const MIN_READ_CAP = 1024 * 1024;

/**
 * fastify's two lines per request ("incoming request", "request completed") at the default
 * `info` level cost a third or more of the post rate: they are written only when `verbose()`
 * (LOG_LEVEL debug or trace). Everything else fastify logs about a request (a response that
 * failed while being written, stream and serializer errors) is kept at every level.
 */
class QuietRequestLog extends LogController {
  readonly #verbose: () => boolean;

  constructor(verbose: () => boolean) {
    super();
    this.#verbose = verbose;
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (this.#verbose()) super.incomingRequest(request, reply, metadata);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error !== null && error !== undefined) super.requestCompleted(error, request, reply, metadata);
    else if (this.#verbose()) super.requestCompleted(error, request, reply, metadata);
  }
}

/**
 * Builds the REST v2 server (not listening). Every JSON body is written by `pyJson`, errors are
 * `{"title", "description"}`, and Zaqar's before-hooks run on every routed request.
 */
export function createHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    // Typed as fastify's logger so the instance keeps the default type parameters.
    loggerInstance: deps.logger as FastifyBaseLogger,
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 1024 },
    // Bodies are read by our own parser up to its cap; fastify's limit must not fire first.
    bodyLimit: Number.MAX_SAFE_INTEGER,
    logController: new QuietRequestLog(() => deps.logger.isLevelEnabled('debug')),
    childLoggerFactory: RequestLogger.factory,
    ...(deps.tls === true ? { serverFactory: (handler: Parameters<typeof createHttpsServer>[1]) => createHttpsServer({}, handler) } : {}),
    // Errors fastify raises before routing (a URL whose %-escapes are not UTF-8) get Zaqar's
    // shape too, not fastify's own JSON (found by the REST fuzzer).
    frameworkErrors: (error, request, reply) => renderError(error, request, reply),
    // Bytes that are not HTTP at all (e.g. a body sent without framing): Zaqar's shape rather
    // than Node's bare "Client Error", and the connection closed.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return;
      const body = pyJson({ title: 'Bad request', description: 'The request could not be parsed as HTTP.' });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nvary: Accept\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      void err;
    },
  });
  app.decorateRequest('zaqarContext', null);
  app.decorateRequest('zaqarIdentity', null);
  // First of the hooks: a preflight carries no Client-ID nor token, and must not meet them.
  if (deps.corsOrigins !== undefined) installCors(app, deps.corsOrigins);
  installBodyParser(app, Math.max(deps.limits.maxMessagesPostSize, deps.limits.maxQueueMetadata, MIN_READ_CAP));
  installErrorHandling(app);
  // Keystone's middleware sits in front of Zaqar's hooks: 401/503 win over header errors.
  if (deps.auth !== undefined) installAuthHook(app, deps.auth);
  // A callback hook, not an async one: no promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      beforeHooks(request, deps.signedUrlKey);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });
  registerHomeRoutes(app, deps);
  registerQueueRoutes(app, deps);
  registerMessageRoutes(app, deps);
  registerClaimRoutes(app, deps);
  registerSubscriptionRoutes(app, deps);
  registerSchemaRoutes(app, deps);
  return app;
}
