/**
 * Coalescing of live notifications, a per-queue opt-in (docs/protocol-extensions.md §3): the
 * reserved queue metadata `_coalesce: {"window_ms": 250, "key": "/name"}` says which messages
 * are "the same" (equal JSON value at the `key` JSON pointer of the body) and how long a burst
 * is gathered. Only live WebSocket notifications coalesce; storage, listing, claims, replay and
 * webhooks are unchanged.
 */
import { errors } from './errors.js';
import type { CoalesceRule, Json, JsonObject } from './types.js';

export type { CoalesceRule };

export const COALESCE_KEY = '_coalesce';
export const MAX_COALESCE_WINDOW_MS = 60_000;

const SHAPE = `${COALESCE_KEY} must be an object {"window_ms": <integer 1..${MAX_COALESCE_WINDOW_MS}>, "key": "<JSON pointer into the body, e.g. /name>"}.`;

/** Refuses a malformed `_coalesce` (queue create and update); `null` switches it off. */
export function validateCoalesce(value: unknown): void {
  if (value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) throw errors.validation(SHAPE);
  const o = value as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'window_ms' && k !== 'key');
  const w = o['window_ms'];
  const k = o['key'];
  const windowOk = typeof w === 'number' && Number.isInteger(w) && w >= 1 && w <= MAX_COALESCE_WINDOW_MS;
  const keyOk = typeof k === 'string' && (k === '' || k.startsWith('/')) && !/~[^01]|~$/.test(k);
  if (extra.length > 0 || !windowOk || !keyOk) throw errors.validation(SHAPE);
}

/** The queue's rule, or null when it has none (a stored value is valid: it was checked). */
export function coalesceRule(metadata: JsonObject | undefined): CoalesceRule | null {
  const v = metadata?.[COALESCE_KEY];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const w = v['window_ms'];
  const k = v['key'];
  if (typeof w !== 'number' || typeof k !== 'string') return null;
  return { windowMs: w, key: k };
}

/** The value at `pointer` in `body`, or undefined when the pointer does not resolve. */
export function pointerValue(body: Json, pointer: string): Json | undefined {
  if (pointer === '') return body;
  let cur: Json | undefined = body;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      cur = cur[Number(token)];
    } else if (cur !== null && typeof cur === 'object') {
      cur = Object.hasOwn(cur, token) ? cur[token] : undefined;
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}
