/**
 * Claim actions (reference §3.5 "Claims", §2.5).
 */
import type { ClaimOptions } from '../../../core/types.js';
import { messageJson } from '../views.js';
import type { Handler } from './types.js';
import { reply } from './types.js';

export const claimCreate: Handler<'claim_create'> = async ({ body, ctx }, { service }) => {
  const opts: { -readonly [K in keyof ClaimOptions]: ClaimOptions[K] } = {};
  if (body.ttl !== undefined) opts.ttl = body.ttl;
  if (body.grace !== undefined) opts.grace = body.grace;
  if (body.limit !== undefined) opts.limit = body.limit;
  const { claimId, messages } = await service.createClaim(ctx, body.queue_name, opts);
  if (messages.length === 0) return reply(204, { claim_id: claimId });
  return reply(201, { claim_id: claimId, messages: messages.map((m) => messageJson(m, claimId)) });
};

export const claimGet: Handler<'claim_get'> = async ({ body, ctx }, { service }) => {
  const claim = await service.getClaim(ctx, body.queue_name, body.claim_id);
  return reply(200, { age: claim.age, ttl: claim.ttl, messages: claim.messages.map((m) => messageJson(m, claim.id)) });
};

export const claimUpdate: Handler<'claim_update'> = async ({ body, ctx }, { service }) => {
  const opts: { ttl?: number; grace?: number } = {};
  if (body.ttl !== undefined) opts.ttl = body.ttl;
  if (body.grace !== undefined) opts.grace = body.grace;
  await service.updateClaim(ctx, body.queue_name, body.claim_id, opts);
  return reply(204, `Claim ${body.claim_id} updated.`);
};

export const claimDelete: Handler<'claim_delete'> = async ({ body, ctx }, { service }) => {
  await service.deleteClaim(ctx, body.queue_name, body.claim_id);
  return reply(204, `Claim ${body.claim_id} deleted.`);
};
