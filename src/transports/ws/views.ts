/**
 * WebSocket renderings of core views (reference §3.5, §6), with Zaqar's key order.
 */
import type { Json, MessageView, QueueStats } from '../../core/types.js';

/** `{"id", "claim_id", "ttl", "age", "body"}`; `claimId` overrides the message's own claim. */
export function messageJson(m: MessageView, claimId: string | null = m.claimId): Json {
  return { id: m.id, claim_id: claimId, ttl: m.ttl, age: m.age, body: m.body };
}

/** A popped message as Zaqar returns the storage record. */
export function poppedJson(m: MessageView): Json {
  return { id: m.id, age: m.age, ttl: m.ttl, body: m.body, claim_id: m.claimId, claim_count: m.claimCount };
}

/** `2026-11-25T21:09:30Z` (seconds precision, as Zaqar's `created`). */
function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function statMessage(m: { readonly id: string; readonly age: number; readonly createdAt: number }): Json {
  return { id: m.id, age: m.age, created: isoSeconds(m.createdAt) };
}

/** `{"messages": {"claimed", "free", "total"[, "oldest", "newest"]}}` (mongo shape, §7). */
export function statsJson(s: QueueStats): Json {
  const messages: { [k: string]: Json } = { claimed: s.claimed, free: s.free, total: s.total };
  if (s.total > 0 && s.oldest !== undefined && s.newest !== undefined) {
    messages['oldest'] = statMessage(s.oldest);
    messages['newest'] = statMessage(s.newest);
  }
  return { messages };
}

