/**
 * Argument checks with Zaqar's exact texts (reference §2.10, §2.11, §5). Each returns the
 * value to use (defaults applied) or throws a 400 {@link ZaqarError}.
 */
import { COALESCE_KEY, validateCoalesce } from './coalesce.js';
import { errors } from './errors.js';
import { findNonJsonValue, formatPath } from './json-values.js';
import type { Limits } from './limits.js';
import { queueNameProblem } from './names.js';
import type { MessageValidator } from './ports.js';
import type { JsonObject } from './types.js';

/** The integer `v` when it lies in `min..max`; otherwise a 400 with Zaqar's `text`. */
function inRange(v: number, min: number, max: number, text: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw errors.validation(text);
  return v;
}

/** Page size of message, claim, subscription and get-many requests. */
export function pageLimit(limit: number | undefined, max: number, fallback: number): number {
  if (limit === undefined) return fallback;
  return inRange(limit, 1, max, `Limit must be at least 1 and may not be greater than ${max}.`);
}

/** Page size of queue listings (their text differs: "no greater than"). */
export function queuePageLimit(limit: number | undefined, limits: Limits): number {
  if (limit === undefined) return limits.defaultPageSize;
  const max = limits.maxQueuesPerPage;
  return inRange(limit, 1, max, `Limit must be at least 1 and no greater than ${max}.`);
}

export function messageTtl(ttl: number, limits: Limits): number {
  const { minMessageTtl: min, maxMessageTtl: max } = limits;
  return inRange(ttl, min, max, `The TTL for a message may not exceed ${max} seconds, and must be at least ${min} seconds long.`);
}

export function messageDelay(delay: number, limits: Limits): number {
  const max = limits.maxMessageDelay;
  return inRange(delay, 0, max, `The Delay TTL for a message may not exceed ${max} seconds,and must be at least 0 seconds long.`);
}

export function claimTtl(ttl: number | undefined, limits: Limits): number {
  const { minClaimTtl: min, maxClaimTtl: max } = limits;
  return inRange(ttl ?? limits.defaultClaimTtl, min, max, `The TTL for a claim may not exceed ${max} seconds, and must be at least ${min} seconds long.`);
}

export function claimGrace(grace: number | undefined, limits: Limits): number {
  const { minClaimGrace: min, maxClaimGrace: max } = limits;
  return inRange(grace ?? limits.defaultClaimGrace, min, max, `The grace for a claim may not exceed ${max} seconds, and must be at least ${min} seconds long.`);
}

export function popCount(count: number, limits: Limits): number {
  const max = limits.maxMessagesPerClaimOrPop;
  return inRange(count, 1, max, `Pop value must be at least 1 and may not be greater than ${max}.`);
}

export function deleteIds(ids: readonly string[], limits: Limits): readonly string[] {
  if (ids.length < 1 || ids.length > limits.maxMessagesPerPage) {
    throw errors.validation(
      `ids parameter should have at least 1 and not greater than ${limits.maxMessagesPerPage} values.`,
    );
  }
  return ids;
}

export function subscriptionTtl(ttl: number | undefined, limits: Limits): number {
  const v = ttl ?? limits.defaultSubscriptionTtl;
  if (!Number.isInteger(v)) throw errors.validation('TTL must be an integer.');
  if (v < limits.minSubscriptionTtl) {
    throw errors.validation(`The TTL for a subscription must be at least ${limits.minSubscriptionTtl} seconds long.`);
  }
  return v;
}

const SUBSCRIBER_SCHEMES = ['http', 'https', 'mailto', 'trust+http', 'trust+https'] as const;

/** A subscriber URI must use one of Zaqar's notification schemes. */
export function subscriber(uri: string): string {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined || !(SUBSCRIBER_SCHEMES as readonly string[]).includes(scheme)) {
    throw errors.validation(
      `The subscriber type of subscription must be supported in the list ['http', 'https', 'mailto', 'trust+http', 'trust+https'].`,
    );
  }
  return uri;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Python truthiness of a JSON value: Zaqar skips type checks for falsy values (§2.11). */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/**
 * Validates the reserved `_` keys of queue metadata with Zaqar's texts (reference §2.11), plus
 * our `_schema` extension (a known schema name).
 */
export function queueMetadata(metadata: JsonObject, limits: Limits, validator?: MessageValidator): JsonObject {
  const m = metadata;
  documentDepth('Queue metadata', m);
  if (COALESCE_KEY in m) validateCoalesce(m[COALESCE_KEY]);
  const intKey = (key: string): void => {
    if (truthy(m[key]) && !isInt(m[key])) throw errors.validation(`${key} must be integer.`);
  };
  intKey('_default_message_ttl');
  if ('_default_message_ttl' in m) {
    const v = m['_default_message_ttl'];
    if (!isInt(v) || v < limits.minMessageTtl || v > limits.maxMessageTtl) {
      throw errors.validation(
        `_default_message_ttl can not exceed ${limits.maxMessageTtl} seconds, and must be at least ${limits.minMessageTtl} seconds long.`,
      );
    }
  }
  intKey('_max_messages_post_size');
  if ('_max_messages_post_size' in m) {
    const v = m['_max_messages_post_size'];
    if (!isInt(v) || v < 1 || v > limits.maxMessagesPostSize) {
      throw errors.validation(
        `_max_messages_post_size can not exceed ${limits.maxMessagesPostSize},  and must be at least greater than 0.`,
      );
    }
  }
  intKey('_max_claim_count');
  const dlq = m['_dead_letter_queue'];
  if (truthy(dlq) && (typeof dlq !== 'string' || queueNameProblem(dlq, '') !== null)) {
    throw errors.validation('_dead_letter_queue must be a valid queue name.');
  }
  intKey('_dead_letter_queue_messages_ttl');
  if (truthy(m['_dead_letter_queue_messages_ttl'])) {
    messageTtl(m['_dead_letter_queue_messages_ttl'] as number, limits);
  }
  intKey('_default_message_delay');
  if ('_default_message_delay' in m) {
    const v = m['_default_message_delay'];
    if (!isInt(v) || v < 0 || v > limits.maxMessageDelay) {
      throw errors.validation(
        `The TTL can not exceed ${limits.maxMessageDelay} seconds, and must be at least 0 seconds long.`,
      );
    }
  }
  if (truthy(m['_enable_encrypt_messages']) && typeof m['_enable_encrypt_messages'] !== 'boolean') {
    throw errors.validation('_enable_encrypt_messages must be boolean.');
  }
  const retry = m['_retry_policy'];
  if (truthy(retry) && (typeof retry !== 'object' || Array.isArray(retry))) {
    throw errors.validation('retry_policy must be a dict.');
  }
  if ('_schema' in m) {
    const name = m['_schema'];
    if (typeof name !== 'string' || validator === undefined || !validator.hasSchema(name)) {
      throw errors.validation(`_schema must name a known message schema; ${JSON.stringify(name)} is not one.`);
    }
  }
  return metadata;
}

/** Reads an integer metadata value, or null when absent/falsy. */
export function metadataInt(metadata: JsonObject | undefined, key: string): number | null {
  const v = metadata?.[key];
  return isInt(v) && v !== 0 ? v : null;
}

/**
 * Deepest nesting of arrays and objects a message body may have. Zaqar bounds bodies only by
 * size, but a body nested thousands deep fits in that size and breaks every recursive reader
 * downstream (JSON encoders, schema validators, clients), so one post could take a queue down
 * for every reader until it expired. 64 is far beyond any real document (TripleO's deepest
 * workflow message nests 6).
 */
export const MAX_BODY_DEPTH = 64;

/** True when `value` nests arrays/objects more than `max` deep. Iterative: any depth is safe. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { v, d } = top;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > max) return true;
    const children: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push({ v: c, d: d + 1 });
  }
  return false;
}

/**
 * Refuses a body nested deeper than {@link MAX_BODY_DEPTH} (before anything is stored).
 * `wrapping` counts the levels around the bodies in `value` (2 for a `messages` list of items).
 */
export function bodyDepth(value: unknown, wrapping = 0): void {
  if (nestsDeeperThan(value, MAX_BODY_DEPTH + wrapping)) {
    throw errors.validation(`Message body is nested too deeply: at most ${MAX_BODY_DEPTH} levels of arrays and objects are allowed.`);
  }
}

/** Refuses queue metadata or subscription options nested deeper than {@link MAX_BODY_DEPTH}. */
export function documentDepth(what: 'Queue metadata' | 'Subscription options', value: unknown): void {
  if (nestsDeeperThan(value, MAX_BODY_DEPTH)) {
    throw errors.validation(`${what} is nested too deeply: at most ${MAX_BODY_DEPTH} levels of arrays and objects are allowed.`);
  }
  jsonOnly(what, value, () => (what === 'Queue metadata' ? 'metadata' : 'options'));
}

/**
 * Refuses a value JSON cannot carry (MessagePack binary, timestamps, extensions; non-finite
 * numbers), naming the field: the broker keeps JSON, so every pod must read back what was
 * written (see `json-values.ts`). `root` names the value and is made only on a refusal. Call
 * after a depth check: the walk is recursive.
 */
export function jsonOnly(what: string, value: unknown, root: () => string): void {
  const found = findNonJsonValue(value);
  if (found === null) return;
  throw errors.validation(`${what} holds a value JSON cannot carry: ${formatPath(root(), found.path)} is ${found.what}.`);
}

/**
 * Zaqar's post-size check (reference §2.10): the queue's `_max_messages_post_size` (capped by
 * the configured maximum) first, then the configured maximum. `length` is what the transport
 * measures: REST the request's Content-Length, WebSocket the length of the messages' text.
 */
export function postSize(length: number, metadata: JsonObject, limits: Limits): void {
  const global = limits.maxMessagesPostSize;
  const perQueue = metadata['_max_messages_post_size'];
  if (typeof perQueue === 'number' && perQueue > 0 && length > Math.min(perQueue, global)) {
    throw errors.validation(
      `Message collection size is too large. The max size for current queue is ${Math.min(perQueue, global)}. ` +
        `It is calculated by max size = min(max_messages_post_size_config: ${global}, max_messages_post_size_queue: ${perQueue}).`,
    );
  }
  if (length > global) throw errors.validation(`Message collection size is too large. Max size ${global}`);
}
