/**
 * The catalogue snapshot format: the folded catalogue as one JSON document, so a pod can start
 * from the newest snapshot and replay only the catalogue records after it, and the catalogue
 * stream can have a retention like every other stream.
 *
 * Version 1:
 * ```json
 * { "v": 1, "lastAt": 1700000000000,
 *   "queues": [{ "project": "p", "name": "q", "metadata": {}, "incarnation": 42 }],
 *   "subscriptions": [{ "project": "p", "queue": "q", "id": "…", "subscriber": "http://…",
 *                       "ttl": 3600, "options": {}, "confirmed": false, "createdAt": 1700000000000,
 *                       "websocket": true }],
 *   "applied": [["<rid>", { "type": "queue_created", "created": true }]] }
 * ```
 * `applied` is the fold's window of recent request ids with their outcomes, oldest first, so a
 * restored pod drops a duplicate record exactly as a pod that folded the whole log does.
 * Decoding checks every field: a snapshot that does not decode is ignored (the pod replays the
 * catalogue from its head instead), never half applied.
 */
import type { CatalogOutcome } from './catalog-outcome.js';
import type { SubscriptionRecord } from './events.js';
import type { Json, JsonObject } from './types.js';

export const CATALOG_SNAPSHOT_VERSION = 1;

export interface SnapshotQueue {
  readonly project: string;
  readonly name: string;
  readonly metadata: JsonObject;
  readonly incarnation: number;
}

export interface SnapshotSubscription {
  readonly project: string;
  readonly queue: string;
  readonly subscription: SubscriptionRecord;
}

/** The decoded content of a catalogue snapshot. */
export interface CatalogSnapshotContent {
  /** Latest event time folded into it (ms). */
  readonly lastAt: number;
  readonly queues: readonly SnapshotQueue[];
  readonly subscriptions: readonly SnapshotSubscription[];
  /** Recent request ids and their outcomes, oldest first. */
  readonly applied: readonly (readonly [string, CatalogOutcome])[];
}

export function encodeCatalogSnapshot(c: CatalogSnapshotContent): Json {
  return {
    v: CATALOG_SNAPSHOT_VERSION,
    lastAt: c.lastAt,
    queues: c.queues.map((q) => ({ project: q.project, name: q.name, metadata: q.metadata, incarnation: q.incarnation })),
    subscriptions: c.subscriptions.map(({ project, queue, subscription: s }) => {
      const out: JsonObject = {
        project,
        queue,
        id: s.id,
        subscriber: s.subscriber,
        ttl: s.ttl,
        options: s.options,
        confirmed: s.confirmed,
        createdAt: s.createdAt,
      };
      if (s.websocket === true) out['websocket'] = true;
      return out;
    }),
    applied: c.applied.map(([rid, outcome]) => [rid, encodeOutcome(outcome)]),
  };
}

function encodeOutcome(o: CatalogOutcome): JsonObject {
  switch (o.type) {
    case 'queue_created':
      return { type: o.type, created: o.created };
    case 'subscription':
      return { type: o.type, id: o.id, created: o.created, confirmed: o.confirmed };
    default:
      return { type: o.type };
  }
}

function decodeOutcome(v: Json | undefined): CatalogOutcome | null {
  if (!isObject(v)) return null;
  switch (v['type']) {
    case 'ok':
    case 'queue_not_found':
    case 'subscription_not_found':
    case 'subscription_conflict':
      return { type: v['type'] };
    case 'queue_created':
      return typeof v['created'] === 'boolean' ? { type: 'queue_created', created: v['created'] } : null;
    case 'subscription': {
      const { id, created, confirmed } = v;
      if (typeof id !== 'string' || typeof created !== 'boolean' || typeof confirmed !== 'boolean') return null;
      return { type: 'subscription', id, created, confirmed };
    }
    default:
      return null;
  }
}

/** Decodes a snapshot; null when it is not a version-1 catalogue snapshot in every detail. */
export function decodeCatalogSnapshot(state: Json): CatalogSnapshotContent | null {
  if (!isObject(state) || state['v'] !== CATALOG_SNAPSHOT_VERSION) return null;
  const lastAt = state['lastAt'];
  const queues = state['queues'];
  const subscriptions = state['subscriptions'];
  const applied = state['applied'];
  if (typeof lastAt !== 'number' || !Array.isArray(queues) || !Array.isArray(subscriptions) || !Array.isArray(applied)) return null;
  const outQueues: SnapshotQueue[] = [];
  for (const q of queues) {
    if (!isObject(q)) return null;
    const { project, name, metadata, incarnation } = q;
    if (typeof project !== 'string' || typeof name !== 'string' || !isObject(metadata) || !isOffset(incarnation)) return null;
    outQueues.push({ project, name, metadata, incarnation });
  }
  const outSubs: SnapshotSubscription[] = [];
  for (const s of subscriptions) {
    const decoded = isObject(s) ? decodeSubscription(s) : null;
    if (decoded === null) return null;
    outSubs.push(decoded);
  }
  const outApplied: [string, CatalogOutcome][] = [];
  for (const entry of applied) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') return null;
    const outcome = decodeOutcome(entry[1]);
    if (outcome === null) return null;
    outApplied.push([entry[0], outcome]);
  }
  return { lastAt, queues: outQueues, subscriptions: outSubs, applied: outApplied };
}

function decodeSubscription(s: JsonObject): SnapshotSubscription | null {
  const { project, queue, id, subscriber, ttl, options, confirmed, createdAt, websocket } = s;
  if (
    typeof project !== 'string' ||
    typeof queue !== 'string' ||
    typeof id !== 'string' ||
    typeof subscriber !== 'string' ||
    typeof ttl !== 'number' ||
    !isObject(options) ||
    typeof confirmed !== 'boolean' ||
    typeof createdAt !== 'number' ||
    (websocket !== undefined && websocket !== true)
  ) {
    return null;
  }
  const subscription: SubscriptionRecord = { id, subscriber, ttl, options, confirmed, createdAt, ...(websocket === true ? { websocket } : {}) };
  return { project, queue, subscription };
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOffset(v: Json | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
