/**
 * The queue catalogue — queues, their metadata and subscriptions — as the fold of the
 * deployment's catalogue log. Deterministic like {@link QueueState}: decisions use the
 * event's time. Subscriptions survive the deletion of their queue, as in Zaqar (§3.5).
 */
import type { CatalogOutcome } from './catalog-outcome.js';
import { RecentOutcomes } from './recent-outcomes.js';
import { decodeCatalogSnapshot, encodeCatalogSnapshot, type SnapshotQueue, type SnapshotSubscription } from './catalog-snapshot.js';
import type { CatalogEvent, SubscriptionRecord } from './events.js';
import { SWEEP_MARGIN_MS } from './queue-state.js';
import { alive, QueueSubscriptions } from './queue-subscriptions.js';
import type { Json, JsonObject } from './types.js';

export interface QueueRecord {
  readonly name: string;
  readonly metadata: JsonObject;
  /** This creation of the queue: the catalogue offset of its creating event (same on every pod). */
  readonly incarnation: number;
}

export type { CatalogOutcome } from './catalog-outcome.js';

const OK: CatalogOutcome = { type: 'ok' };
/**
 * Request ids remembered for deduplication. A record is stored twice only when a publisher
 * retries a write whose confirm it lost, within seconds; catalogue writes are far rarer than
 * posts, so a shorter window than the queue logs' is plenty (and it travels in every snapshot).
 */
const RECENT_CATALOG_RIDS = 1024;

/** Key of a project's queue in the maps below. */
export function queueKey(project: string, queue: string): string {
  return `${project}\u0000${queue}`;
}

export class CatalogState {
  /** project → queue name → record. */
  readonly #queues = new Map<string, Map<string, QueueRecord>>();
  /** queueKey → the queue's subscriptions by id (with the names the key was made of). */
  readonly #subscriptions = new Map<string, QueueSubscriptions>();
  /** Latest event time folded so far (the horizon of what a snapshot may leave out). */
  #lastAt = 0;
  /** Outcomes of the latest records by request id: a record stored twice is applied once. */
  readonly #applied = new RecentOutcomes<CatalogOutcome>(RECENT_CATALOG_RIDS);

  apply(event: CatalogEvent, offset: number): CatalogOutcome {
    if (event.at > this.#lastAt) this.#lastAt = event.at;
    if (event.type === 'barrier') return OK;
    const seen = this.#applied.get(event.rid);
    if (seen !== undefined) return seen;
    const outcome = this.#decide(event, offset);
    this.#applied.remember(event.rid, outcome);
    return outcome;
  }

  #decide(event: Exclude<CatalogEvent, { type: 'barrier' }>, offset: number): CatalogOutcome {
    switch (event.type) {
      case 'queue_create':
        return this.#createQueue(event.project, event.queue, event.metadata, offset);
      case 'queue_delete':
        this.#queues.get(event.project)?.delete(event.queue);
        return OK;
      case 'queue_metadata': {
        const queues = this.#queues.get(event.project);
        const current = queues?.get(event.queue);
        if (queues === undefined || current === undefined) return { type: 'queue_not_found' };
        queues.set(event.queue, { ...current, metadata: event.metadata });
        return OK;
      }
      case 'subscription_create':
        return this.#createSubscription(event.project, event.queue, event.subscription, event.at);
      case 'subscription_update':
        return this.#updateSubscription(event, event.at);
      case 'subscription_delete':
        this.#subscriptions.get(queueKey(event.project, event.queue))?.delete(event.id);
        return OK;
      case 'subscription_purge':
        this.#subscriptions.delete(queueKey(event.project, event.queue));
        return OK;
      default:
        // A record of a type this version does not know (written by a newer one during a
        // rolling upgrade): no effect, but an outcome all the same (the dedupe window and every
        // snapshot carry it).
        return OK;
    }
  }

  /** How many queues and subscriptions (live or not yet swept) are held. */
  get size(): { queues: number; subscriptions: number } {
    let queues = 0;
    let subscriptions = 0;
    for (const byName of this.#queues.values()) queues += byName.size;
    for (const set of this.#subscriptions.values()) subscriptions += set.byId.size;
    return { queues, subscriptions };
  }

  queue(project: string, queue: string): QueueRecord | undefined {
    return this.#queues.get(project)?.get(queue);
  }

  /** The project's queues sorted by name. */
  queues(project: string): QueueRecord[] {
    const queues = this.#queues.get(project);
    if (queues === undefined) return [];
    return [...queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Live subscriptions of a queue, sorted by id. */
  subscriptions(project: string, queue: string, now: number): SubscriptionRecord[] {
    const subs = this.#subscriptions.get(queueKey(project, queue))?.byId;
    if (subs === undefined) return [];
    return [...subs.values()].filter((s) => alive(s, now)).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Live webhook subscriptions of a queue (not WebSocket ones), sorted by id. Read on every post,
   * so a queue with none (however many WebSocket subscribers) answers without a scan.
   */
  webhooks(project: string, queue: string, now: number): SubscriptionRecord[] {
    const set = this.#subscriptions.get(queueKey(project, queue));
    if (set === undefined || set.webhookCount === 0) return [];
    const out: SubscriptionRecord[] = [];
    for (const s of set.byId.values()) if (s.websocket !== true && alive(s, now)) out.push(s);
    return out.length > 1 ? out.sort((a, b) => (a.id < b.id ? -1 : 1)) : out;
  }

  subscription(project: string, queue: string, id: string, now: number): SubscriptionRecord | undefined {
    const s = this.#subscriptions.get(queueKey(project, queue))?.byId.get(id);
    return s !== undefined && alive(s, now) ? s : undefined;
  }

  /** Whether each id is a live subscription of the queue at `now`: one lookup of the queue. */
  liveCheck(project: string, queue: string, now: number): (id: string) => boolean {
    const subs = this.#subscriptions.get(queueKey(project, queue))?.byId;
    if (subs === undefined) return () => false;
    return (id) => {
      const s = subs.get(id);
      return s !== undefined && alive(s, now);
    };
  }

  /**
   * The whole state as a JSON document (see catalog-snapshot.ts). Subscriptions that expired
   * more than the sweep margin before the latest event are left out: no later event can see
   * them alive (writers' clocks disagree by less than the margin), so a pod restored from the
   * snapshot decides exactly as one that folded the whole log.
   */
  snapshot(): Json {
    const horizon = this.#lastAt - SWEEP_MARGIN_MS;
    const queues: SnapshotQueue[] = [];
    for (const [project, byName] of this.#queues) {
      for (const q of byName.values()) queues.push({ project, name: q.name, metadata: q.metadata, incarnation: q.incarnation });
    }
    const subscriptions: SnapshotSubscription[] = [];
    for (const { project, queue, byId } of this.#subscriptions.values()) {
      for (const subscription of byId.values()) {
        if (alive(subscription, horizon)) subscriptions.push({ project, queue, subscription });
      }
    }
    return encodeCatalogSnapshot({ lastAt: this.#lastAt, queues, subscriptions, applied: this.#applied.entries() });
  }

  /**
   * Replaces the whole state with a snapshot's. Returns false (state untouched) when the
   * document is not a valid snapshot.
   */
  restore(state: Json): boolean {
    const content = decodeCatalogSnapshot(state);
    if (content === null) return false;
    this.#queues.clear();
    this.#subscriptions.clear();
    for (const q of content.queues) {
      let byName = this.#queues.get(q.project);
      if (byName === undefined) {
        byName = new Map();
        this.#queues.set(q.project, byName);
      }
      byName.set(q.name, { name: q.name, metadata: q.metadata, incarnation: q.incarnation });
    }
    for (const { project, queue, subscription } of content.subscriptions) {
      this.#subscriptionsOf(project, queue).set(subscription);
    }
    this.#lastAt = content.lastAt;
    this.#applied.replace(content.applied);
    return true;
  }

  #createQueue(project: string, queue: string, metadata: JsonObject, incarnation: number): CatalogOutcome {
    let queues = this.#queues.get(project);
    if (queues === undefined) {
      queues = new Map();
      this.#queues.set(project, queues);
    }
    if (queues.has(queue)) return { type: 'queue_created', created: false };
    queues.set(queue, { name: queue, metadata, incarnation });
    return { type: 'queue_created', created: true };
  }

  /** The queue's subscriptions by id, created empty when there are none. */
  #subscriptionsOf(project: string, queue: string): QueueSubscriptions {
    const key = queueKey(project, queue);
    let set = this.#subscriptions.get(key);
    if (set === undefined) {
      set = new QueueSubscriptions(project, queue);
      this.#subscriptions.set(key, set);
    }
    return set;
  }

  #createSubscription(
    project: string,
    queue: string,
    sub: Omit<SubscriptionRecord, 'createdAt' | 'confirmed'>,
    at: number,
  ): CatalogOutcome {
    const subs = this.#subscriptionsOf(project, queue);
    subs.purgeExpired(at);
    const existing = subs.withSubscriber(sub.subscriber);
    if (existing !== undefined) return { type: 'subscription', id: existing.id, created: false, confirmed: existing.confirmed };
    subs.set({ ...sub, confirmed: false, createdAt: at });
    return { type: 'subscription', id: sub.id, created: true, confirmed: false };
  }

  #updateSubscription(e: Extract<CatalogEvent, { type: 'subscription_update' }>, at: number): CatalogOutcome {
    const subs = this.#subscriptions.get(queueKey(e.project, e.queue));
    const s = subs?.get(e.id);
    if (subs === undefined || s === undefined || !alive(s, at)) return { type: 'subscription_not_found' };
    if (e.subscriber !== undefined && e.subscriber !== s.subscriber) {
      const other = subs.withSubscriber(e.subscriber);
      if (other !== undefined && other.id !== s.id && alive(other, at)) return { type: 'subscription_conflict' };
    }
    subs.set({
      ...s,
      subscriber: e.subscriber ?? s.subscriber,
      options: e.options ?? s.options,
      confirmed: e.confirmed ?? s.confirmed,
      // A new ttl restarts the subscription's lifetime (reference §4.6).
      ttl: e.ttl ?? s.ttl,
      createdAt: e.ttl === undefined ? s.createdAt : at,
    });
    return OK;
  }
}
