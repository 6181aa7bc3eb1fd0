/**
 * Message resources (reference §4.4, §2.6): list, get many, bulk delete, pop, get one,
 * delete one. Posting lives in `message-post.ts`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../../core/errors.js';
import { ctxOf, pathOf } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { getBool, getInt, getList, getParam, type LinkParams, pagingParams, parseQuery, type Query } from '../query.js';
import { messageJson, nextLinks, poppedJson, pyTruthy } from '../render.js';
import { sendEmpty, sendJson } from '../reply.js';
import { resource } from '../routing.js';
import { checkDeletion, checkMessageLimit } from '../validate.js';
import { postMessages } from './message-post.js';
import { param, queuePath } from './params.js';

export function registerMessageRoutes(app: FastifyInstance, deps: HttpDeps): void {
  resource(app, '/v2/queues/:queue_name/messages', {
    POST: (req, reply) => postMessages(deps, req, reply),
    GET: (req, reply) => getCollection(deps, req, reply),
    DELETE: (req, reply) => deleteCollection(deps, req, reply),
  });
  resource(app, '/v2/queues/:queue_name/messages/:message_id', {
    GET: async (req, reply) => {
      const m = await deps.service.getMessage(ctxOf(req), param(req, 'queue_name'), param(req, 'message_id'));
      return sendJson(reply, 200, messageJson(m, queuePath(req)));
    },
    DELETE: async (req, reply) => {
      const claimId = getParam(parseQuery(req.url), 'claim_id');
      await deps.service.deleteMessage(ctxOf(req), param(req, 'queue_name'), param(req, 'message_id'), claimId);
      return sendEmpty(reply, 204);
    },
  });
}

async function getCollection(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const q = parseQuery(req.url);
  const ids = getList(q, 'ids');
  return ids === undefined ? listMessages(deps, req, reply, q) : getMany(deps, req, reply, ids);
}

async function getMany(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply, ids: string[]): Promise<FastifyReply> {
  checkMessageLimit(ids.length, deps.limits);
  const ctx = ctxOf(req);
  const queue = param(req, 'queue_name');
  const found = await deps.service.getMessages(ctx, queue, ids);
  if (found.length === 0) throw errors.messagesNotFound(ids, queue, ctx.project);
  return sendJson(reply, 200, { messages: found.map((m) => messageJson(m, queuePath(req))) });
}

/** The listing parameters in Zaqar's order; it is also the order of the `next` link's query. */
function listingParams(q: Query): LinkParams {
  const { link } = pagingParams(q);
  for (const name of ['echo', 'include_claimed', 'include_delayed'] as const) {
    const v = getBool(q, name);
    if (v !== undefined) link.set(name, v);
  }
  return link;
}

async function listMessages(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply, q: Query): Promise<FastifyReply> {
  const link = listingParams(q);
  const ctx = ctxOf(req);
  const queue = param(req, 'queue_name');
  const metadata = (await deps.service.getQueue(ctx, queue)) ?? {};
  // Zaqar does not filter delayed messages on queues without a delay (and says so in the link).
  if (!pyTruthy(metadata['_default_message_delay'])) link.set('include_delayed', true);
  const limit = link.get('limit');
  checkMessageLimit(typeof limit === 'number' ? limit : undefined, deps.limits);
  const marker = link.get('marker');
  const result = await deps.service.listMessages(ctx, queue, {
    ...(typeof marker === 'string' && { marker }),
    ...(typeof limit === 'number' && { limit }),
    echo: link.get('echo') === true,
    includeClaimed: link.get('include_claimed') === true,
    includeDelayed: link.get('include_delayed') === true,
  });
  const last = result.messages[result.messages.length - 1];
  if (last !== undefined) link.set('marker', String(last.seq));
  const messages = result.messages.map((m) => messageJson(m, queuePath(req)));
  return sendJson(reply, 200, { messages, links: nextLinks(messages.length, pathOf(req), link) });
}

async function deleteCollection(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const q = parseQuery(req.url);
  const ids = getList(q, 'ids');
  const pop = getInt(q, 'pop');
  checkDeletion(ids, pop, deps.limits);
  const ctx = ctxOf(req);
  const queue = param(req, 'queue_name');
  if (ids !== undefined) {
    await deps.service.deleteMessages(ctx, queue, ids);
    return sendEmpty(reply, 204);
  }
  const popped = await deps.service.popMessages(ctx, queue, pop ?? 1);
  return sendJson(reply, 200, { messages: popped.map(poppedJson) });
}
