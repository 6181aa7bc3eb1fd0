/**
 * Subscription resources (reference §4.6): create, list, get, update, delete, confirm.
 * Validation follows `validation.py#subscription_patching` and its texts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTrust } from '../../../auth/index.js';
import { errors } from '../../../core/errors.js';
import type { Limits } from '../../../core/limits.js';
import * as rules from '../../../core/rules.js';
import type { Json, JsonObject, UpdateSubscriptionOptions } from '../../../core/types.js';
import { hasBody, pyInt, readJson } from '../body.js';
import { callerOf } from '../auth-hook.js';
import { ctxOf, pathOf } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { renderError } from '../error-handler.js';
import { badApi } from '../http-error.js';
import { pagingParams, parseQuery } from '../query.js';
import { subscriptionRecord } from '../../../core/records.js';
import { nextLinks, pyTruthy } from '../render.js';
import { sendEmpty, sendJson } from '../reply.js';
import { resource } from '../routing.js';
import { checkSubscriptionLimit } from '../validate.js';
import { param } from './params.js';
import { checkRetryPolicy } from './retry-policy.js';

/** Seconds that still fit Python's datetime when added to now (year 9999). */
const MAX_TTL_SECONDS = Math.floor((253402300799000 - Date.UTC(2026, 0, 1)) / 1000);

export function registerSubscriptionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const base = '/v2/queues/:queue_name/subscriptions';
  resource(app, base, {
    POST: (req, reply) => createSubscription(deps, req, reply),
    GET: (req, reply) => listSubscriptions(deps, req, reply),
  });
  resource(app, `${base}/:subscription_id`, {
    GET: async (req, reply) => {
      const s = await deps.service.getSubscription(ctxOf(req), param(req, 'queue_name'), param(req, 'subscription_id'));
      return sendJson(reply, 200, subscriptionRecord(s));
    },
    PATCH: (req, reply) => updateSubscription(deps, req, reply),
    DELETE: async (req, reply) => {
      await deps.service.deleteSubscription(ctxOf(req), param(req, 'queue_name'), param(req, 'subscription_id'));
      return sendEmpty(reply, 204);
    },
  });
  resource(app, `${base}/:subscription_id/confirm`, { PUT: (req, reply) => confirmSubscription(deps, req, reply) });
}

function documentOf(req: FastifyRequest): Json {
  return hasBody(req) ? readJson(req) : {};
}

/** `subscription_patching`: non-empty dict, supported scheme, dict options, integer ttl ≥ 60. */
export function checkSubscription(doc: Json, limits: Limits): JsonObject {
  if (!pyTruthy(doc)) throw badApi('No subscription to create.');
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw badApi('Subscriptions must be a dict.');
  const subscriber = doc['subscriber'];
  if (pyTruthy(subscriber)) rules.subscriber(typeof subscriber === 'string' ? subscriber : '');
  const options = doc['options'];
  if (pyTruthy(options) && (typeof options !== 'object' || Array.isArray(options))) {
    throw badApi('Options must be a dict.');
  }
  if (options !== undefined && options !== null && typeof options === 'object' && !Array.isArray(options)) {
    checkRetryPolicy(options);
  }
  checkTtl(doc['ttl'], limits);
  return doc;
}

function checkTtl(ttl: Json | undefined, limits: Limits): void {
  if (!pyTruthy(ttl)) return;
  const n = rules.subscriptionTtl(pyInt(ttl) ?? Number.NaN, limits);
  if (n > MAX_TTL_SECONDS) {
    throw badApi('The TTL seconds for a subscription plus current time must be less than 9999-12-31 23:59:59.999999.');
  }
}

/** The recognised fields, with Zaqar's falsy values (0, "", {}) meaning "not given". */
function subscriptionFields(doc: JsonObject): UpdateSubscriptionOptions {
  const subscriber = doc['subscriber'];
  const ttl = pyInt(doc['ttl']);
  const options = doc['options'];
  return {
    ...(typeof subscriber === 'string' && subscriber !== '' && { subscriber }),
    ...(ttl !== null && ttl > 0 && { ttl }),
    ...(typeof options === 'object' && options !== null && !Array.isArray(options) && { options }),
  };
}

async function createSubscription(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const doc = documentOf(req);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Object.hasOwn(doc, 'subscriber')) {
    throw badApi('Missing parameter subscriber in body.');
  }
  const fields = subscriptionFields(checkSubscription(doc, deps.limits));
  const subscriber = fields.subscriber ?? '';
  const opts = await withTrust({ ...fields, subscriber }, deps.auth?.trusts, callerOf(req), deps.limits.defaultSubscriptionTtl);
  const result = await deps.service.createSubscription(ctxOf(req), param(req, 'queue_name'), opts);
  reply.header('location', pathOf(req));
  if (!result.created && result.confirmed) {
    renderError(
      errors.conflict('Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI.'),
      req,
      reply,
    );
    return reply;
  }
  return sendJson(reply, 201, { subscription_id: result.id });
}

async function listSubscriptions(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const q = parseQuery(req.url);
  const { marker, limit, link } = pagingParams(q);
  checkSubscriptionLimit(limit, deps.limits);
  const subs = await deps.service.listSubscriptions(ctxOf(req), param(req, 'queue_name'), {
    ...(marker !== undefined && { marker }),
    ...(limit !== undefined && { limit }),
  });
  const last = subs[subs.length - 1];
  link.set('marker', last?.id ?? marker ?? '');
  return sendJson(reply, 200, { subscriptions: subs.map(subscriptionRecord), links: nextLinks(subs.length, pathOf(req), link) });
}

async function updateSubscription(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const doc = checkSubscription(documentOf(req), deps.limits);
  const ctx = ctxOf(req);
  await deps.service.updateSubscription(ctx, param(req, 'queue_name'), param(req, 'subscription_id'), subscriptionFields(doc));
  return sendEmpty(reply, 204, pathOf(req));
}

async function confirmSubscription(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const doc = documentOf(req);
  const confirmed = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? doc['confirmed'] : undefined;
  if (typeof confirmed !== 'boolean') throw badApi("The 'confirmed' should be boolean.");
  const ctx = ctxOf(req);
  await deps.service.confirmSubscription(ctx, param(req, 'queue_name'), param(req, 'subscription_id'), confirmed);
  return sendEmpty(reply, 204, pathOf(req));
}
