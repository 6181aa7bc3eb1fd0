/**
 * Parsing of what the core receives as text: paging markers, and the payloads foreign
 * producers publish straight to the broker.
 */
import { errors } from './errors.js';
import type { Json, NewMessage } from './types.js';

/** The messages a foreign payload carries (see {@link ForeignMessage.payload}). */
export function foreignMessages(payload: Json): NewMessage[] {
  const isObject = (v: Json | undefined): v is { [k: string]: Json } =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const one = (m: Json): NewMessage => {
    if (!isObject(m) || !('body' in m)) throw errors.validation('Missing "body" field.');
    const ttl = m['ttl'];
    if (ttl !== undefined && typeof ttl !== 'number') throw errors.validation('The value of the "ttl" field must be a int.');
    return ttl === undefined ? { body: m['body'] ?? null } : { body: m['body'] ?? null, ttl };
  };
  if (isObject(payload) && Array.isArray(payload['messages'])) return payload['messages'].map(one);
  if (isObject(payload) && 'body' in payload) return [one(payload)];
  return [{ body: payload }];
}

/** Paging marker → seq after which to list; `null` for a marker that is not ours. */
export function parseMarker(marker: string | undefined): number | null {
  if (marker === undefined || marker === '') return 0;
  return /^\d{1,16}$/.test(marker) && Number.isSafeInteger(Number(marker)) ? Number(marker) : null;
}
