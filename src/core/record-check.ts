/**
 * What a record must look like before a fold applies it. A log may hold records this version
 * never wrote: a bug, an older or newer version, or a third party writing to the stream. The
 * fold skips such a record (and says so, counted) instead of letting it into the state, where
 * every reader — list, get, claims, stats, notifications, replay, snapshots — would meet it.
 *
 * Only what readers rely on is checked: field types, and message bodies no deeper than
 * {@link MAX_BODY_DEPTH} (a body too deep breaks every recursive encoder that renders it).
 */
import { MAX_BODY_DEPTH, nestsDeeperThan } from './rules.js';

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || check(v);

function postedMessageProblem(m: unknown, i: number): string | null {
  if (!isObject(m)) return `message ${i} is not an object`;
  if (!isString(m['id'])) return `message ${i} has no string id`;
  if (!('body' in m)) return `message ${i} has no body`;
  if (!isCount(m['ttl']) || !isCount(m['delay'])) return `message ${i} has no numeric ttl and delay`;
  if (!optional(m['claimCount'], isCount)) return `message ${i} has a claimCount that is not a count`;
  if (nestsDeeperThan(m['body'], MAX_BODY_DEPTH)) return `message ${i} has a body nested deeper than ${MAX_BODY_DEPTH}`;
  return null;
}

/** The envelope every record has (see events.ts): a string rid, a numeric time, a string type. */
function envelopeProblem(e: Fields): string | null {
  if (!isString(e['type'])) return 'no string type';
  if (!isString(e['rid'])) return 'no string rid';
  return typeof e['at'] === 'number' && Number.isFinite(e['at']) ? null : 'no numeric time';
}

/** Why a queue log record cannot be applied, or null when it can. */
export function queueRecordProblem(event: unknown): string | null {
  if (!isObject(event)) return 'not an object';
  const e = event;
  const envelope = envelopeProblem(e);
  if (envelope !== null) return envelope;
  switch (e['type']) {
    case 'post': {
      if (!(e['clientId'] === null || isString(e['clientId']))) return 'post: clientId is not a string or null';
      if (!optional(e['incarnation'], isCount)) return 'post: incarnation is not a count';
      const messages = e['messages'];
      if (!Array.isArray(messages)) return 'post: messages is not a list';
      for (const [i, m] of messages.entries()) {
        const problem = postedMessageProblem(m, i);
        if (problem !== null) return `post: ${problem}`;
      }
      return null;
    }
    case 'delete':
      return isString(e['id']) && (e['claimId'] === null || isString(e['claimId'])) ? null : 'delete: id or claimId malformed';
    case 'delete_many':
      return Array.isArray(e['ids']) && e['ids'].every(isString) ? null : 'delete_many: ids is not a list of strings';
    case 'pop':
      return isCount(e['count']) ? null : 'pop: count is not a count';
    case 'claim':
      return isString(e['claimId']) && isCount(e['ttl']) && isCount(e['grace']) && isCount(e['limit']) && (e['maxClaimCount'] === null || isCount(e['maxClaimCount']))
        ? null
        : 'claim: fields malformed';
    case 'claim_update':
      return isString(e['claimId']) && isCount(e['ttl']) && isCount(e['grace']) ? null : 'claim_update: fields malformed';
    case 'claim_release':
    case 'dead_lettered':
      return isString(e['claimId']) ? null : `${e['type']}: claimId is not a string`;
    case 'purge':
      return typeof e['all'] === 'boolean' ? null : 'purge: all is not a boolean';
    case 'reset':
      return isCount(e['incarnation']) ? null : 'reset: incarnation is not a count';
    default:
      // `barrier`, and a type this version does not know (a newer one wrote it during a
      // rolling upgrade): the state gives it no effect.
      return null;
  }
}

function subscriptionProblem(s: unknown): string | null {
  if (!isObject(s)) return 'subscription is not an object';
  if (!isString(s['id']) || !isString(s['subscriber'])) return 'subscription id or subscriber is not a string';
  if (!isCount(s['ttl']) || !isObject(s['options'])) return 'subscription ttl or options malformed';
  if (nestsDeeperThan(s['options'], MAX_BODY_DEPTH)) return `subscription options nested deeper than ${MAX_BODY_DEPTH}`;
  return null;
}

/** Why a catalogue record cannot be applied, or null when it can. */
export function catalogRecordProblem(event: unknown): string | null {
  if (!isObject(event)) return 'not an object';
  const e = event;
  const envelope = envelopeProblem(e);
  if (envelope !== null) return envelope;
  const type = e['type'];
  if (type === 'barrier') return null;
  if (!isString(e['project']) || !isString(e['queue'])) return `${String(type)}: project or queue is not a string`;
  switch (type) {
    case 'queue_create':
    case 'queue_metadata':
      if (!isObject(e['metadata'])) return `${type}: metadata is not an object`;
      return nestsDeeperThan(e['metadata'], MAX_BODY_DEPTH) ? `${type}: metadata nested deeper than ${MAX_BODY_DEPTH}` : null;
    case 'queue_delete':
    case 'subscription_purge':
      return null;
    case 'subscription_create': {
      const problem = subscriptionProblem(e['subscription']);
      return problem === null ? null : `subscription_create: ${problem}`;
    }
    case 'subscription_update':
      return isString(e['id']) &&
        optional(e['subscriber'], isString) &&
        optional(e['ttl'], isCount) &&
        optional(e['options'], (o) => isObject(o) && !nestsDeeperThan(o, MAX_BODY_DEPTH)) &&
        optional(e['confirmed'], (c) => typeof c === 'boolean')
        ? null
        : 'subscription_update: fields malformed';
    case 'subscription_delete':
      return isString(e['id']) ? null : 'subscription_delete: id is not a string';
    default:
      return null; // a type of a newer version: no effect (see catalog-state.ts)
  }
}
