/**
 * The events of the logs the core folds. Every event carries `rid` (a unique request id,
 * so the writer can find its own event when it reads it back) and `at` (ms since the
 * epoch, stamped by the writer): the fold never reads a clock, so every pod folding the
 * same log reaches the same state.
 *
 * Events are plain JSON (they are stored in the backend as JSON documents).
 */
import type { Json, JsonObject } from './types.js';

interface EventBase {
  /** Unique id of the request that wrote the event. */
  readonly rid: string;
  /** Writer's time, ms since the epoch. */
  readonly at: number;
}

/** A message as carried by a `post` event, with ttl and delay already resolved. */
export interface PostedMessage {
  readonly id: string;
  readonly body: Json;
  /** Seconds. */
  readonly ttl: number;
  /** Seconds; 0 for none. */
  readonly delay: number;
  /** Carried over when a message is moved to a dead-letter queue. */
  readonly claimCount?: number;
}

/** Events of one Zaqar queue's log. */
export type QueueEvent =
  | (EventBase & {
      readonly type: 'post';
      /** Canonical Client-ID of the poster, for the echo filter (null for foreign producers). */
      readonly clientId: string | null;
      readonly messages: readonly PostedMessage[];
      /** The queue's incarnation the writer saw in the catalogue (see `reset`); 0 if none. */
      readonly incarnation?: number;
    })
  | (EventBase & {
      readonly type: 'delete';
      readonly id: string;
      /** Claim id given by the caller; the fold applies Zaqar's claim rules (§2.6). */
      readonly claimId: string | null;
    })
  | (EventBase & { readonly type: 'delete_many'; readonly ids: readonly string[] })
  | (EventBase & { readonly type: 'pop'; readonly count: number })
  | (EventBase & {
      readonly type: 'claim';
      readonly claimId: string;
      /** Seconds. */
      readonly ttl: number;
      /** Seconds. */
      readonly grace: number;
      readonly limit: number;
      /** `_max_claim_count` when a dead-letter queue is configured, else null. */
      readonly maxClaimCount: number | null;
    })
  | (EventBase & { readonly type: 'claim_update'; readonly claimId: string; readonly ttl: number; readonly grace: number })
  | (EventBase & { readonly type: 'claim_release'; readonly claimId: string })
  /** The messages a claim moved out are now stored in the dead-letter queue (§2.7). */
  | (EventBase & { readonly type: 'dead_lettered'; readonly claimId: string })
  /** Removes every unclaimed message (`all`: claimed ones too, for queue deletion). */
  | (EventBase & { readonly type: 'purge'; readonly all: boolean })
  /**
   * The queue was (re)created with this incarnation (the catalogue offset of its creation, the
   * same on every pod and increasing): the log keeps only messages of this incarnation or a
   * later one; posts of an earlier one that arrive later were posted to the deleted queue and
   * go with it. A reset to an incarnation not newer than the current one changes nothing.
   */
  | (EventBase & { readonly type: 'reset'; readonly incarnation: number })
  /** Does nothing; written and read back to know the fold has caught up with the log. */
  | (EventBase & { readonly type: 'barrier' });

/** A subscription as carried by catalogue events. */
export interface SubscriptionRecord {
  readonly id: string;
  readonly subscriber: string;
  /** Seconds. */
  readonly ttl: number;
  readonly options: JsonObject;
  readonly confirmed: boolean;
  /** ms since the epoch; restarted when the ttl is updated. */
  readonly createdAt: number;
  /** A WebSocket connection's own subscription (no subscriber given): never a webhook. */
  readonly websocket?: boolean;
}

/** Events of the catalogue log (one per deployment): queues, metadata, subscriptions. */
export type CatalogEvent =
  | (EventBase & { readonly type: 'queue_create'; readonly project: string; readonly queue: string; readonly metadata: JsonObject })
  | (EventBase & { readonly type: 'queue_delete'; readonly project: string; readonly queue: string })
  | (EventBase & { readonly type: 'queue_metadata'; readonly project: string; readonly queue: string; readonly metadata: JsonObject })
  | (EventBase & {
      readonly type: 'subscription_create';
      readonly project: string;
      readonly queue: string;
      readonly subscription: Omit<SubscriptionRecord, 'createdAt' | 'confirmed'>;
    })
  | (EventBase & {
      readonly type: 'subscription_update';
      readonly project: string;
      readonly queue: string;
      readonly id: string;
      readonly subscriber?: string;
      readonly ttl?: number;
      readonly options?: JsonObject;
      readonly confirmed?: boolean;
    })
  | (EventBase & { readonly type: 'subscription_delete'; readonly project: string; readonly queue: string; readonly id: string })
  | (EventBase & { readonly type: 'subscription_purge'; readonly project: string; readonly queue: string })
  | (EventBase & { readonly type: 'barrier' });

export type LogEvent = QueueEvent | CatalogEvent;

/** An event before the writer stamps its `rid` and `at` (distributes over the union). */
export type Unstamped<E> = E extends unknown ? Omit<E, 'rid' | 'at'> : never;
