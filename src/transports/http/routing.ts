/**
 * Registers a Zaqar resource the way Falcon routes it: one URL, its responders, a 405 with
 * `Allow` for the other methods, and an OPTIONS answer (200, `Allow`). HEAD is never implied.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { renderError } from './error-handler.js';
import { methodNotAllowed } from './http-error.js';
import { sendBytes } from './reply.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

const ALL_METHODS: readonly Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** Every resource registered on an instance, in order (the auth tests enumerate them). */
const RESOURCES = new WeakMap<FastifyInstance, { url: string; methods: Method[] }[]>();

/** The resources of `app` with their methods. */
export function resourcesOf(app: FastifyInstance): readonly { readonly url: string; readonly methods: readonly Method[] }[] {
  return RESOURCES.get(app) ?? [];
}

/** Routes `url` to `handlers`; every other method answers Falcon's 405. */
export function resource(app: FastifyInstance, url: string, handlers: Partial<Record<Method, Handler>>): void {
  const methods = ALL_METHODS.filter((m) => handlers[m] !== undefined);
  const list = RESOURCES.get(app) ?? [];
  list.push({ url, methods });
  RESOURCES.set(app, list);
  for (const m of methods) {
    const handler = handlers[m];
    if (handler !== undefined) app.route({ method: m, url, handler });
  }
  const allow = [...methods].sort().join(', ');
  const others: HTTPMethods[] = ALL_METHODS.filter((m) => handlers[m] === undefined);
  if (others.length > 0) {
    app.route({
      method: others,
      url,
      config: { routingOnly: true },
      handler: async (request, reply) => {
        renderError(methodNotAllowed(`${allow}, OPTIONS`), request, reply);
        return reply;
      },
    });
  }
  app.route({
    method: 'OPTIONS',
    url,
    config: { routingOnly: true },
    handler: async (_request, reply) => sendBytes(reply.header('allow', allow), 200, Buffer.alloc(0)),
  });
}
