/**
 * Zaqar's JSON records that both transports show the same way (reference §2.9).
 */
import type { SubscriptionRecord } from './events.js';
import type { JsonObject, SubscriptionView } from './types.js';

/** A subscription record, keys in Zaqar's order. */
export function subscriptionRecord(s: SubscriptionView): JsonObject {
  return {
    id: s.id,
    source: s.source,
    subscriber: s.subscriber,
    ttl: s.ttl,
    age: s.age,
    options: s.options,
    confirmed: s.confirmed,
  };
}

/** A stored subscription as read at `now` (its age). */
export function subscriptionView(
  queue: string,
  s: SubscriptionRecord,
  now: number,
): SubscriptionView {
  return {
    ...(s.websocket === true ? { websocket: true } : {}),
    id: s.id,
    source: queue,
    subscriber: s.subscriber,
    ttl: s.ttl,
    age: Math.max(0, Math.floor((now - s.createdAt) / 1000)),
    options: s.options,
    confirmed: s.confirmed,
  };
}
