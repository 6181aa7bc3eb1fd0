/**
 * Types shared by the core and its callers (the transports). Transport-neutral: each
 * transport renders these views in its own wire shape (reference §6).
 */

/** A queue's `_coalesce` rule (src/core/coalesce.ts): live notifications gathered per window. */
export interface CoalesceRule {
  readonly windowMs: number;
  /** RFC 6901 JSON pointer into the message body (`/name`, `/value/type`; `""` = the whole body). */
  readonly key: string;
}

/** Who is asking. Established by a transport from headers (and authentication). */
export interface RequestContext {
  /** The project (`X-Project-ID`), already validated (non-empty, ≤ 256 characters). */
  readonly project: string;
  /**
   * The caller's Client-ID in canonical form (lower-case, dashed UUID), or `null` when the
   * transport did not require one (WebSocket actions other than message_list/post).
   */
  readonly clientId: string | null;
}

/** JSON value as stored in message bodies and metadata. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A message as read at a given time. */
export interface MessageView {
  readonly id: string;
  /** Position of the message in its queue; the decimal string of it is the paging marker. */
  readonly seq: number;
  readonly body: Json;
  /** Seconds; extended by claims (claim ttl + grace) as Zaqar does. */
  readonly ttl: number;
  /** Whole seconds since creation. */
  readonly age: number;
  /** Creation time, ms since the epoch. */
  readonly createdAt: number;
  /** The live claim holding it, or null. */
  readonly claimId: string | null;
  readonly claimCount: number;
}

/** One message to post, after the transport has parsed it. */
export interface NewMessage {
  readonly body: Json;
  /** Seconds; `undefined` = the queue's `_default_message_ttl` or the configured default. */
  readonly ttl?: number;
  /** Seconds; honoured only on queues with `_default_message_delay` (REST only, as Zaqar). */
  readonly delay?: number;
}

export interface ListQueuesOptions {
  readonly marker?: string;
  readonly limit?: number;
  readonly detailed?: boolean;
}

export interface QueueSummary {
  readonly name: string;
  /** Stored metadata (without reserved defaults). */
  readonly metadata: JsonObject;
}

export interface ListQueuesResult {
  readonly queues: readonly QueueSummary[];
  /** Total number of queues of the project. */
  readonly count: number;
}

export interface QueueStats {
  readonly exists: boolean;
  readonly claimed: number;
  readonly free: number;
  readonly total: number;
  readonly oldest?: { readonly id: string; readonly age: number; readonly createdAt: number };
  readonly newest?: { readonly id: string; readonly age: number; readonly createdAt: number };
}

export interface ListMessagesOptions {
  readonly marker?: string;
  readonly limit?: number;
  readonly echo?: boolean;
  readonly includeClaimed?: boolean;
  readonly includeDelayed?: boolean;
  /** Catch up with the catalogue before answering `queueExists: false` (WS answers it with 404). */
  readonly confirmMissing?: boolean;
}

export interface ListMessagesResult {
  readonly messages: readonly MessageView[];
  /** Whether the queue exists (WS answers 404 for a missing queue, REST 200 empty). */
  readonly queueExists: boolean;
}

export interface ClaimOptions {
  readonly ttl?: number;
  readonly grace?: number;
  readonly limit?: number;
}

export interface ClaimResult {
  readonly claimId: string;
  /** Empty when nothing was claimable (204 on both transports). */
  readonly messages: readonly MessageView[];
}

export interface ClaimView {
  readonly id: string;
  readonly ttl: number;
  /** Seconds since the claim was created or last updated. */
  readonly age: number;
  readonly messages: readonly MessageView[];
}

export interface SubscriptionView {
  readonly id: string;
  /** Not on the wire: a WebSocket connection's own subscription. */
  readonly websocket?: boolean;
  /** The queue name. */
  readonly source: string;
  readonly subscriber: string;
  readonly ttl: number;
  readonly age: number;
  readonly options: JsonObject;
  readonly confirmed: boolean;
}

export interface CreateSubscriptionOptions {
  readonly subscriber: string;
  /**
   * Set by the WebSocket transport for a connection's own subscription (Zaqar stores it with an
   * `http://…/<connection>` subscriber URL): delivered over the socket, never as a webhook.
   */
  readonly websocket?: boolean;
  /** Seconds, ≥ 60; default 3600. */
  readonly ttl?: number;
  readonly options?: JsonObject;
}

export interface CreateSubscriptionResult {
  readonly id: string;
  /** False when an identical subscriber already existed (its id is returned). */
  readonly created: boolean;
  /** Whether the existing subscription was confirmed (REST answers 409 then). */
  readonly confirmed: boolean;
}

export interface UpdateSubscriptionOptions {
  readonly subscriber?: string;
  readonly ttl?: number;
  readonly options?: JsonObject;
}

/**
 * A notification of one posted message, as Zaqar pushes it to subscribers (reference §2.9),
 * plus the fields an opted-in reattaching client needs.
 */
export interface Notification {
  readonly project: string;
  readonly queue: string;
  readonly messageId: string;
  /** The message's marker (its position in the queue log). */
  readonly marker: string;
  readonly ttl: number;
  readonly body: Json;
}

/** Where an attach starts: after a marker the client saw, everything still held, or only new. */
export type AttachStart = { readonly after: string } | 'first' | 'next';

export interface AttachResult {
  /** Stops delivery. */
  readonly stop: () => void;
  /** How many messages were replayed. */
  readonly replayed: number;
  /**
   * True when some messages posted after the marker are no longer held (retention, ttl or the
   * history cap removed them): the replay is incomplete and the client must resynchronise.
   */
  readonly gap: boolean;
  /** Marker of the newest message delivered or known at attach time ('0' when none). */
  readonly marker: string;
}

/** A live listener on a queue's new messages; called in log order. */
export type NotificationListener = (n: Notification) => void;

/**
 * Zaqar's queue semantics as one service. Every method validates its arguments with
 * Zaqar's exact texts and throws {@link ZaqarError} (from `errors.ts`) on failure;
 * transports catch and render.
 */
export interface ZaqarService {
  listQueues(ctx: RequestContext, opts: ListQueuesOptions): Promise<ListQueuesResult>;
  /** Creates the queue; `false` when it already existed (metadata then untouched). */
  createQueue(ctx: RequestContext, queue: string, metadata?: JsonObject): Promise<boolean>;
  /** Stored metadata; `null` when the queue does not exist. */
  getQueue(ctx: RequestContext, queue: string): Promise<JsonObject | null>;
  /** Replaces the whole metadata object (REST PATCH computes it first). Queue must exist. */
  setQueueMetadata(ctx: RequestContext, queue: string, metadata: JsonObject): Promise<void>;
  deleteQueue(ctx: RequestContext, queue: string): Promise<void>;
  /** `confirmMissing`: catch up with the catalogue before answering `exists: false` (WS answers it with 404). */
  queueStats(ctx: RequestContext, queue: string, opts?: { readonly confirmMissing?: boolean }): Promise<QueueStats>;
  /** Purges messages (unclaimed only, as Zaqar) and/or subscriptions. */
  purgeQueue(ctx: RequestContext, queue: string, types: readonly ('messages' | 'subscriptions')[]): Promise<void>;

  postMessages(ctx: RequestContext, queue: string, messages: readonly NewMessage[]): Promise<string[]>;
  listMessages(ctx: RequestContext, queue: string, opts: ListMessagesOptions): Promise<ListMessagesResult>;
  getMessage(ctx: RequestContext, queue: string, id: string): Promise<MessageView>;
  /** Found ones only, in the order asked. */
  getMessages(ctx: RequestContext, queue: string, ids: readonly string[]): Promise<MessageView[]>;
  deleteMessage(ctx: RequestContext, queue: string, id: string, claimId?: string): Promise<void>;
  deleteMessages(ctx: RequestContext, queue: string, ids: readonly string[]): Promise<void>;
  popMessages(ctx: RequestContext, queue: string, count: number): Promise<MessageView[]>;

  createClaim(ctx: RequestContext, queue: string, opts: ClaimOptions): Promise<ClaimResult>;
  getClaim(ctx: RequestContext, queue: string, claimId: string): Promise<ClaimView>;
  updateClaim(ctx: RequestContext, queue: string, claimId: string, opts: { ttl?: number; grace?: number }): Promise<void>;
  deleteClaim(ctx: RequestContext, queue: string, claimId: string): Promise<void>;

  createSubscription(ctx: RequestContext, queue: string, opts: CreateSubscriptionOptions): Promise<CreateSubscriptionResult>;
  listSubscriptions(ctx: RequestContext, queue: string, opts: { marker?: string; limit?: number }): Promise<SubscriptionView[]>;
  getSubscription(ctx: RequestContext, queue: string, id: string): Promise<SubscriptionView>;
  updateSubscription(ctx: RequestContext, queue: string, id: string, opts: UpdateSubscriptionOptions): Promise<void>;
  confirmSubscription(ctx: RequestContext, queue: string, id: string, confirmed: boolean): Promise<void>;
  deleteSubscription(ctx: RequestContext, queue: string, id: string): Promise<void>;
  /** True while the subscription exists and has not expired (used to stop WS delivery). */
  subscriptionAlive(project: string, queue: string, id: string): boolean;
  /**
   * {@link subscriptionAlive} for many ids at one moment (one fan-out): the queue's subscriptions
   * are looked up once, the clock read once. Use the check right away; it does not follow later
   * changes of the catalogue.
   */
  liveSubscriptions(project: string, queue: string): (id: string) => boolean;
  /** The queue's `_coalesce` rule for live WebSocket notifications, or null (synchronous). */
  coalescing(project: string, queue: string): CoalesceRule | null;

  /**
   * Listens to messages posted to a queue from now on, in log order. Resolves once the
   * listener is active (every message posted after that is delivered).
   */
  watch(project: string, queue: string, listener: NotificationListener): Promise<() => void>;

  /**
   * Reattach (our extension): like {@link watch}, but first replays, through the same
   * listener and before this resolves, the messages still held that were posted after the
   * given marker (or every message still held for `'first'`, none for `'next'`), then
   * continues live — no gap and no duplicate at the seam. Throws 400 for a malformed marker.
   */
  attach(project: string, queue: string, listener: NotificationListener, start: AttachStart): Promise<AttachResult>;

  /** Whether the backend can take writes now (readiness). */
  healthy(): boolean;
}

/** A message published straight to the broker by a foreign producer (not through the API). */
export interface ForeignMessage {
  readonly project: string;
  readonly queue: string;
  /**
   * The parsed JSON payload: a Zaqar post body (`{"messages": [...]}`), one message
   * (`{"body": ..., "ttl": ...}`), or anything else, taken as the body of one message.
   */
  readonly payload: Json;
  /** The producer's message id, when it gave one: a redelivery with the same id is stored once. */
  readonly messageId?: string;
}

/**
 * What became of a foreign message. Foreign messages cannot be refused at the door: invalid
 * ones go to the queue's dead-letter queue when it has one, else are dropped — never delivered.
 */
export type IngestOutcome =
  | { readonly type: 'stored'; readonly ids: readonly string[] }
  | { readonly type: 'dead_lettered'; readonly reason: string; readonly deadLetterQueue: string }
  | { readonly type: 'dropped'; readonly reason: string };
