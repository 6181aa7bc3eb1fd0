/**
 * Subscription actions (reference §3.5 "Subscriptions", §3.6).
 */
import { withTrust } from '../../../auth/index.js';
import { errors } from '../../../core/errors.js';
import type { AttachStart, CreateSubscriptionOptions } from '../../../core/types.js';
import { subscriptionRecord } from '../../../core/records.js';
import type { Handler } from './types.js';
import { reply } from './types.js';

/**
 * Without `subscriber` the connection itself subscribes: delivery is active before the 201
 * is answered. A duplicate is always a 409 with a plain string on WS (unlike REST).
 */
export const subscriptionCreate: Handler<'subscription_create'> = async (call, { service, auth, limits }) => {
  const { body, ctx, session } = call;
  const q = body.queue_name;
  const own = body.subscriber === undefined;
  const opts: { -readonly [K in keyof CreateSubscriptionOptions]: CreateSubscriptionOptions[K] } = {
    subscriber: body.subscriber ?? session.subscriberUrl,
    ...(own ? { websocket: true } : {}),
  };
  if (body.ttl !== undefined) opts.ttl = body.ttl;
  if (body.options !== undefined) opts.options = body.options;
  const start = attachStart(body.marker);
  if (start !== null && !own) {
    throw errors.validation('The marker is only valid for subscriptions of this connection (no subscriber).');
  }
  const result = await service.createSubscription(ctx, q, await withTrust(opts, auth?.trusts, session.caller, limits.defaultSubscriptionTtl));
  if (!result.created) return reply(409, `Subscription ${q} not created.`);
  const created = { subscription_id: result.id, message: `Subscription ${q} created.` };
  if (!own) return reply(201, created);
  try {
    if (start === null) {
      await session.attach(ctx.project, q, result.id, call.binary);
      return reply(201, created);
    }
    const r = await session.reattach(ctx.project, q, result.id, call.binary, start);
    return reply(201, { ...created, replayed: r.replayed, gap: r.gap, marker: r.marker });
  } catch (e: unknown) {
    await service.deleteSubscription(ctx, q, result.id);
    throw e;
  }
};

/** The reattach extension's `marker` (docs/protocol-extensions.md); null when not asked. */
function attachStart(marker: string | undefined): AttachStart | null {
  if (marker === undefined) return null;
  if (marker === 'first' || marker === 'next') return marker;
  return { after: marker };
}

export const subscriptionList: Handler<'subscription_list'> = async ({ body, ctx }, { service }) => {
  const opts: { marker?: string; limit?: number } = {};
  if (body.marker !== undefined) opts.marker = body.marker;
  if (body.limit !== undefined) opts.limit = body.limit;
  const subs = await service.listSubscriptions(ctx, body.queue_name, opts);
  return reply(200, { subscriptions: subs.map(subscriptionRecord) });
};

export const subscriptionGet: Handler<'subscription_get'> = async ({ body, ctx }, { service }) => {
  const sub = await service.getSubscription(ctx, body.queue_name, body.subscription_id);
  return reply(200, subscriptionRecord(sub));
};

export const subscriptionDelete: Handler<'subscription_delete'> = async ({ body, ctx }, { service }) => {
  await service.deleteSubscription(ctx, body.queue_name, body.subscription_id);
  return reply(204, `Subscription ${body.subscription_id} removed.`);
};
