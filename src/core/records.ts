/**
 * Zaqar's JSON records that both transports show the same way (reference §2.9).
 */
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
