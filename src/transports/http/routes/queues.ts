/**
 * Queue resources (reference §4.3): list, create, metadata, delete, stats, purge, share.
 * Metadata PATCH lives in `queue-patch.ts`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JsonObject } from '../../../core/types.js';
import { asObject, hasBody, metadataTooLarge, readJson } from '../body.js';
import { ctxOf, pathOf } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { createSignedUrl } from '../../../auth/signed-url.js';
import { badApi, badBody } from '../http-error.js';
import { getBool, getParam, pagingParams, parseQuery } from '../query.js';
import { metadataWithDefaults, nextLinks, statsJson } from '../render.js';
import { sendEmpty, sendJson } from '../reply.js';
import { resource } from '../routing.js';
import { checkQueueLimit } from '../validate.js';
import { param, queuePath } from './params.js';
import { patchQueue } from './queue-patch.js';

export function registerQueueRoutes(app: FastifyInstance, deps: HttpDeps): void {
  resource(app, '/v2/queues', { GET: (req, reply) => listQueues(deps, req, reply) });
  resource(app, '/v2/queues/:queue_name', {
    GET: (req, reply) => getQueue(deps, req, reply),
    PUT: (req, reply) => putQueue(deps, req, reply),
    PATCH: (req, reply) => patchQueue(deps, req, reply),
    DELETE: async (req, reply) => {
      await deps.service.deleteQueue(ctxOf(req), param(req, 'queue_name'));
      return sendEmpty(reply, 204);
    },
  });
  resource(app, '/v2/queues/:queue_name/stats', {
    GET: async (req, reply) => {
      const stats = await deps.service.queueStats(ctxOf(req), param(req, 'queue_name'));
      return sendJson(reply, 200, statsJson(stats, queuePath(req)));
    },
  });
  resource(app, '/v2/queues/:queue_name/purge', { POST: (req, reply) => purgeQueue(deps, req, reply) });
  resource(app, '/v2/queues/:queue_name/share', { POST: (req, reply) => shareQueue(deps, req, reply) });
}

async function listQueues(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const q = parseQuery(req.url);
  const { marker, limit, link } = pagingParams(q);
  const detailed = getBool(q, 'detailed');
  if (detailed !== undefined) link.set('detailed', detailed);
  const name = getParam(q, 'name');
  if (name !== undefined) link.set('name', name);
  const withCount = getBool(q, 'with_count');
  if (withCount !== undefined) link.set('with_count', withCount);
  checkQueueLimit(limit, deps.limits);

  const result = await deps.service.listQueues(ctxOf(req), {
    ...(marker !== undefined && { marker }),
    ...(limit !== undefined && { limit }),
    ...(detailed !== undefined && { detailed }),
  });
  const path = pathOf(req);
  const queues = result.queues.map((qs): JsonObject =>
    detailed === true
      ? { name: qs.name, metadata: metadataWithDefaults(qs.metadata, deps.limits), href: `${path}/${qs.name}` }
      : { name: qs.name, href: `${path}/${qs.name}` },
  );
  const last = result.queues[result.queues.length - 1];
  link.set('marker', last?.name ?? marker ?? '');
  const body: JsonObject = { queues, links: nextLinks(queues.length, path, link) };
  if (withCount === true && result.count > 0) body['count'] = result.count;
  return sendJson(reply, 200, body);
}

async function getQueue(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const stored = await deps.service.getQueue(ctxOf(req), param(req, 'queue_name'));
  return sendJson(reply, 200, metadataWithDefaults(stored ?? {}, deps.limits));
}

async function putQueue(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const tooLarge = metadataTooLarge(req, deps.limits);
  if (tooLarge !== null) throw badApi(tooLarge);
  const metadata = hasBody(req) ? asObject(readJson(req)) : undefined;
  const created = await deps.service.createQueue(ctxOf(req), param(req, 'queue_name'), metadata);
  return sendEmpty(reply, created ? 201 : 204, pathOf(req));
}

const PURGEABLE = ['messages', 'subscriptions'] as const;
type Purgeable = (typeof PURGEABLE)[number];

function isPurgeable(v: unknown): v is Purgeable {
  return typeof v === 'string' && (PURGEABLE as readonly string[]).includes(v);
}

/** `queue_purging`: the body's `resource_types` must be a subset of messages/subscriptions. */
function purgeTypes(req: FastifyRequest): Purgeable[] {
  if (!hasBody(req)) return [...PURGEABLE];
  const doc = readJson(req);
  if (Array.isArray(doc) || !('resource_types' in doc)) {
    throw badApi('Post body must contain key "resource_types".');
  }
  const types = doc['resource_types'];
  if (!Array.isArray(types) || !types.every(isPurgeable)) {
    throw badApi("Resource types must be a sub set of {'messages', 'subscriptions'}.");
  }
  return types.filter(isPurgeable);
}

async function purgeQueue(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const types = purgeTypes(req);
  await deps.service.purgeQueue(ctxOf(req), param(req, 'queue_name'), types);
  return sendEmpty(reply, 204);
}

const SHARE_PATHS: ReadonlySet<string> = new Set(['messages', 'subscriptions', 'claims']);
const SHARE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH']);

function stringList(doc: Record<string, unknown>, key: string, fallback: string[], allowed: ReadonlySet<string>): string[] {
  const v = doc[key] ?? fallback;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string' && allowed.has(x))) {
    throw badApi(`${key} must be a list of: ${[...allowed].join(', ')}.`);
  }
  return v;
}

/** Zaqar's pre-signed URL (reference §4.9); without a key, Zaqar's answer without one. */
async function shareQueue(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const doc = hasBody(req) ? asObject(readJson(req)) : {};
  const key = deps.signedUrlKey;
  if (key === undefined) throw badApi("The `key` can't be None");
  const paths = stringList(doc, 'paths', ['messages'], SHARE_PATHS);
  const methods = stringList(doc, 'methods', ['GET'], SHARE_METHODS);
  const expires = doc['expires'];
  if (expires !== undefined && typeof expires !== 'string') throw badApi('expires must be an ISO-8601 date string.');
  const queue = param(req, 'queue_name');
  const ctx = ctxOf(req);
  try {
    const url = createSignedUrl(key, paths.map((p) => `/v2/queues/${queue}/${p}`), ctx.project, methods, expires, Date.now());
    return sendJson(reply, 200, { ...url, paths: [...url.paths], methods: [...url.methods] });
  } catch (e) {
    throw badBody(e instanceof Error ? e.message : String(e));
  }
}
