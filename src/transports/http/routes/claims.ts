/**
 * Claim resources (reference §4.5): create (201 + Location, 204 empty when nothing was
 * claimable), get, update (body required), delete.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Limits } from '../../../core/limits.js';
import type { Json } from '../../../core/types.js';
import { asObject, hasBody, pyInt, readJson } from '../body.js';
import { ctxOf, pathOf } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { badBody } from '../http-error.js';
import { getInt, parseQuery } from '../query.js';
import { claimJson, messageJson } from '../render.js';
import { sendEmpty, sendJson } from '../reply.js';
import { resource } from '../routing.js';
import { checkClaimCreation, checkClaimTtl } from '../validate.js';
import { param, queuePath } from './params.js';

export function registerClaimRoutes(app: FastifyInstance, deps: HttpDeps): void {
  resource(app, '/v2/queues/:queue_name/claims', { POST: (req, reply) => createClaim(deps, req, reply) });
  resource(app, '/v2/queues/:queue_name/claims/:claim_id', {
    GET: async (req, reply) => {
      const claim = await deps.service.getClaim(ctxOf(req), param(req, 'queue_name'), param(req, 'claim_id'));
      return sendJson(reply, 200, claimJson(claim, queuePath(req), pathOf(req)));
    },
    PATCH: (req, reply) => updateClaim(deps, req, reply),
    DELETE: async (req, reply) => {
      await deps.service.deleteClaim(ctxOf(req), param(req, 'queue_name'), param(req, 'claim_id'));
      return sendEmpty(reply, 204);
    },
  });
}

/** Zaqar's claim spec: `ttl` and `grace`, ints, defaulted. */
function claimFields(doc: Json, limits: Limits): { ttl: number; grace: number } {
  const obj = asObject(doc);
  const field = (name: string, fallback: number): number => {
    if (!Object.hasOwn(obj, name)) return fallback;
    const n = pyInt(obj[name]);
    if (n === null) throw badBody(`The value of the "${name}" field must be a int.`);
    return n;
  };
  return { ttl: field('ttl', limits.defaultClaimTtl), grace: field('grace', limits.defaultClaimGrace) };
}

async function createClaim(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const limit = getInt(parseQuery(req.url), 'limit');
  const { ttl, grace } = hasBody(req)
    ? claimFields(readJson(req), deps.limits)
    : { ttl: deps.limits.defaultClaimTtl, grace: deps.limits.defaultClaimGrace };
  checkClaimCreation(ttl, grace, limit, deps.limits);
  const result = await deps.service.createClaim(ctxOf(req), param(req, 'queue_name'), {
    ttl,
    grace,
    ...(limit !== undefined && { limit }),
  });
  if (result.messages.length === 0) return sendEmpty(reply, 204);
  const messages = result.messages.map((m) => messageJson({ ...m, claimId: result.claimId }, queuePath(req)));
  reply.header('location', `${pathOf(req)}/${result.claimId}`);
  return sendJson(reply, 201, { messages });
}

async function updateClaim(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { ttl, grace } = claimFields(readJson(req), deps.limits);
  checkClaimTtl(ttl, deps.limits);
  await deps.service.updateClaim(ctxOf(req), param(req, 'queue_name'), param(req, 'claim_id'), { ttl, grace });
  return sendEmpty(reply, 204);
}
