/**
 * `trust+http(s)://` subscribers (reference §3.4.3), at subscribe time: as Zaqar's trust task
 * registers one, a subscription without `options.trust_id` gets a Keystone trust created from
 * the caller, and its id is stored in the options. The options travel in the catalogue, so
 * every pod delivers with the same trust (webhook-dispatcher.ts asks for a token scoped to it).
 */
import { errors } from '../core/errors.js';
import type { CreateSubscriptionOptions } from '../core/types.js';
import { isAuthError, type Caller, type Trusts } from './types.js';

/** `trust+http://…` or `trust+https://…`. */
function isTrustSubscriber(uri: string): boolean {
  return /^trust\+https?:/i.test(uri);
}

/**
 * The options to store: with `trust_id` added when the subscriber is a trust one, the caller
 * is known (an authenticated request) and the options carry none; otherwise as given. Without
 * `trusts` (noauth, JWT) nothing is created, and the subscription is stored but not delivered.
 * The trust expires with the subscription's ttl (`defaultTtl` when none is given).
 */
export async function withTrust(
  opts: CreateSubscriptionOptions,
  trusts: Trusts | undefined,
  caller: Caller | null,
  defaultTtl: number,
  now: number = Date.now(),
): Promise<CreateSubscriptionOptions> {
  if (trusts === undefined || caller === null || opts.websocket === true || !isTrustSubscriber(opts.subscriber)) return opts;
  const options = opts.options ?? {};
  if (Object.hasOwn(options, 'trust_id')) return opts;
  let trustId: string;
  try {
    trustId = await trusts.create(caller, now + (opts.ttl ?? defaultTtl) * 1000);
  } catch (e) {
    if (isAuthError(e) && e.kind === 'invalid') throw errors.validation(`The trust for this subscriber could not be created: ${e.message}.`);
    throw errors.brokerUnavailable('The trust for this subscriber could not be created (Keystone unavailable).', e);
  }
  return { ...opts, options: { ...options, trust_id: trustId } };
}
