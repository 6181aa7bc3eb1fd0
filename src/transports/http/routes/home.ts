/**
 * Versions document, home document, ping and health (reference §4.7).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin as identityIsAdmin } from '../../../auth/index.js';
import homeDoc from '../home-doc.json' with { type: 'json' };
import type { JsonObject, RequestContext, ZaqarService } from '../../../core/types.js';
import type { HttpDeps } from '../deps.js';
import { notAuthorized } from '../http-error.js';
import { resource } from '../routing.js';
import { sendEmpty, sendJson } from '../reply.js';

/** The home document as Zaqar serves it (json.dumps with indent=4 of its dict). */
const HOME_DOC_TEXT = JSON.stringify(homeDoc, null, 4);

function version(id: string, status: string, updated: string, type: string, href: string): JsonObject {
  return {
    id,
    status,
    updated,
    'media-types': [{ base: 'application/json', type: `application/vnd.openstack.messaging-${type}+json` }],
    links: [{ href, rel: 'self' }],
  };
}

/**
 * Only what is served: v2. Zaqar also lists v1 and v1.1 (DEPRECATED); we serve neither, so a
 * client that picked one from this document would meet 404s (docs/compatibility.md, "Versions").
 */
const VERSIONS: JsonObject = {
  versions: [version('2', 'CURRENT', '2014-9-24T04:06:47Z', 'v2', '/v2/')],
};

export function registerHomeRoutes(app: FastifyInstance, deps: HttpDeps): void {
  resource(app, '/', { GET: async (_req, reply) => sendJson(reply, 300, VERSIONS) });
  resource(app, '/v2/', {
    GET: async (_req, reply) =>
      reply
        .code(200)
        .header('content-type', 'application/json-home')
        .header('cache-control', 'max-age=86400')
        .send(Buffer.from(HOME_DOC_TEXT)),
  });
  resource(app, '/v2/ping', {
    GET: async (_req, reply) => sendEmpty(reply, deps.service.healthy() ? 204 : 503),
    HEAD: async (_req, reply) => sendEmpty(reply, 204),
  });
  resource(app, '/v2/health', { GET: async (req, reply) => health(deps.service, req, reply) });
}

function isAdmin(request: FastifyRequest): boolean {
  const identity = request.zaqarIdentity;
  if (identity !== null) return identityIsAdmin(identity);
  const raw = request.headers['x-roles'];
  const roles = (Array.isArray(raw) ? raw.join(',') : raw ?? '').split(',');
  return roles.some((r) => r.trim().toLowerCase() === 'admin');
}

async function health(service: ZaqarService, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!isAdmin(request)) throw notAuthorized();
  if (!service.healthy()) return sendJson(reply, 200, { storage_reachable: false });
  const operation_status = await exerciseStorage(service);
  return sendJson(reply, 200, { storage_reachable: true, operation_status });
}

/**
 * Zaqar's health check really uses the store: a temporary queue in a throw-away project
 * (invisible to every real project) goes through each operation, timed.
 */
export async function exerciseStorage(service: ZaqarService): Promise<JsonObject> {
  const ctx: RequestContext = { project: `health-${randomUUID()}`, clientId: randomUUID() };
  const queue = `health_${randomUUID().replaceAll('-', '')}`;
  const status: JsonObject = {};
  let ids: string[] = [];
  let claimId = '';
  let claimed: string[] = [];
  const step = async (name: string, op: () => Promise<unknown>): Promise<void> => {
    const start = performance.now();
    let succeeded = true;
    try {
      await op();
    } catch {
      succeeded = false;
    }
    status[name] = { succeeded, seconds: (performance.now() - start) / 1000, ref: null };
  };
  await step('create_queue', () => service.createQueue(ctx, queue));
  await step('post_messages', async () => {
    ids = await service.postMessages(ctx, queue, [{ body: 'health' }, { body: 'health' }, { body: 'health' }]);
  });
  await step('claim_messages', async () => {
    const claim = await service.createClaim(ctx, queue, { limit: 2 });
    claimId = claim.claimId;
    claimed = claim.messages.map((m) => m.id);
  });
  await step('list_messages', () => service.listMessages(ctx, queue, { echo: true }));
  await step('delete_messages', () => service.deleteMessage(ctx, queue, claimed[0] ?? '', claimId));
  await step('delete_claim', () => service.deleteClaim(ctx, queue, claimId));
  await step('bulk_delete_messages', () => service.deleteMessages(ctx, queue, ids));
  await step('delete_queue', () => service.deleteQueue(ctx, queue));
  return status;
}
