/**
 * Parsing of what the core receives as text: paging markers, and the payloads foreign
 * producers publish straight to the broker.
 */
import { errors } from './errors.js';
import type { Json, NewMessage } from './types.js';

/** Keys a Zaqar message envelope may have; an object with any other key is a body. */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['body', 'ttl', 'delay']);

const isObject = (v: Json | undefined): v is { [k: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{"body": …}` with only `ttl` and `delay` beside it: one Zaqar message, not a body. */
const isEnvelope = (v: Json): v is { [k: string]: Json } =>
  isObject(v) && 'body' in v && Object.keys(v).every((k) => ENVELOPE_KEYS.has(k));

/**
 * The messages a foreign payload carries (see {@link ForeignMessage.payload}):
 * - `{"messages": [...]}` (that key alone, a list): a Zaqar post; every item needs a `body`, as on REST;
 * - an envelope (`body`, optionally `ttl`, `delay`): one message;
 * - any other JSON value, including an object that merely has a `body` key among others
 *   (`{"type": …, "body": …}`): the body of one message, stored as it is.
 */
export function foreignMessages(payload: Json): NewMessage[] {
  const seconds = (m: { [k: string]: Json }, key: 'ttl' | 'delay'): number | undefined => {
    const v = m[key];
    if (v !== undefined && typeof v !== 'number') throw errors.validation(`The value of the "${key}" field must be a int.`);
    return v;
  };
  const one = (m: Json): NewMessage => {
    if (!isObject(m) || !('body' in m)) throw errors.validation('Missing "body" field.');
    const ttl = seconds(m, 'ttl');
    const delay = seconds(m, 'delay');
    return { body: m['body'] ?? null, ...(ttl === undefined ? {} : { ttl }), ...(delay === undefined ? {} : { delay }) };
  };
  if (isObject(payload) && Object.keys(payload).length === 1 && Array.isArray(payload['messages'])) {
    return payload['messages'].map(one);
  }
  if (isEnvelope(payload)) return [one(payload)];
  return [{ body: payload }];
}

/** Paging marker → seq after which to list; `null` for a marker that is not ours. */
export function parseMarker(marker: string | undefined): number | null {
  if (marker === undefined || marker === '') return 0;
  return /^\d{1,16}$/.test(marker) && Number.isSafeInteger(Number(marker)) ? Number(marker) : null;
}
