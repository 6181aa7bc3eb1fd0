/**
 * Core views → Zaqar REST JSON (reference §4, §8). Message objects carry exactly
 * `id, href, ttl, age, body`, python-zaqarclient's `Message(**item)` rejects any other key.
 */
import type { Limits } from '../../core/limits.js';
import type {
  ClaimView,
  Json,
  JsonObject,
  MessageView,
  QueueStats,
} from '../../core/types.js';
import { type LinkParams, toQueryString } from './query.js';

/** A message in REST form; `?claim_id=` ends the href while the message is claimed. */
export function messageJson(m: MessageView, queuePath: string): JsonObject {
  const href = `${queuePath}/messages/${m.id}`;
  return {
    id: m.id,
    href: m.claimId === null ? href : `${href}?claim_id=${encodeURIComponent(m.claimId)}`,
    ttl: m.ttl,
    age: m.age,
    body: m.body,
  };
}

/** A popped message: the raw storage record Zaqar returns (no href). */
export function poppedJson(m: MessageView): JsonObject {
  return { id: m.id, age: m.age, ttl: m.ttl, body: m.body, claim_id: m.claimId, claim_count: m.claimCount };
}

/** `GET .../claims/{cid}`: `{age, ttl, messages, href}`. */
export function claimJson(c: ClaimView, queuePath: string, claimPath: string): JsonObject {
  return {
    age: c.age,
    ttl: c.ttl,
    messages: c.messages.map((m) => messageJson({ ...m, claimId: c.id }, queuePath)),
    href: claimPath,
  };
}

/** Zaqar's `created` form: `2026-11-25T21:08:33Z` (no milliseconds). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `GET .../stats`; `oldest`/`newest` as `{age, created, href}` (mongo shape, §4.3). */
export function statsJson(s: QueueStats, queuePath: string): JsonObject {
  const messages: JsonObject = { claimed: s.claimed, free: s.free, total: s.total };
  if (s.total > 0 && s.oldest !== undefined && s.newest !== undefined) {
    messages['oldest'] = edgeJson(s.oldest, queuePath);
    messages['newest'] = edgeJson(s.newest, queuePath);
  }
  return { messages };
}

function edgeJson(m: { id: string; age: number; createdAt: number }, queuePath: string): JsonObject {
  return { age: m.age, created: isoSeconds(m.createdAt), href: `${queuePath}/messages/${m.id}` };
}

/**
 * Metadata as REST reads show it: user keys first, then every reserved key whose stored
 * value is falsy or missing filled with its default (§2.11).
 */
export function metadataWithDefaults(stored: JsonObject, limits: Limits): JsonObject {
  const out: JsonObject = { ...stored };
  const defaults: [string, Json][] = [
    ['_max_messages_post_size', limits.maxMessagesPostSize],
    ['_default_message_ttl', limits.defaultMessageTtl],
    ['_default_message_delay', 0],
    ['_dead_letter_queue', null],
    ['_dead_letter_queue_messages_ttl', null],
    ['_max_claim_count', null],
    ['_enable_encrypt_messages', false],
  ];
  for (const [key, value] of defaults) if (!pyTruthy(out[key])) out[key] = value;
  return out;
}

/** Python truthiness of a JSON value. */
export function pyTruthy(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** `links`: one `next` link when the page is non-empty, else none. */
export function nextLinks(count: number, path: string, params: LinkParams): JsonObject[] {
  return count === 0 ? [] : [{ rel: 'next', href: path + toQueryString(params) }];
}
