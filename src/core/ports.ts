/**
 * The ports the core needs from the outside world. Adapters implement them; `app.ts` wires
 * them in. No transport or broker type appears here.
 */
import type { LogEvent } from './events.js';
import type { Json, Notification, SubscriptionView } from './types.js';

/** Names a log: the deployment's catalogue, or one Zaqar queue's message log. */
export type LogRef =
  | { readonly kind: 'catalog' }
  | { readonly kind: 'queue'; readonly project: string; readonly queue: string };

/**
 * One record of a log. Offsets are assigned by the backend, start at 0, increase strictly, and
 * may have gaps (RabbitMQ spends one on each new stream segment).
 */
export interface LogRecord {
  readonly offset: number;
  readonly event: LogEvent;
}

/** A folded log's state as of one record: what the fold held after applying the record at `offset`. */
export interface LogSnapshot {
  readonly offset: number;
  /** The state, as the fold encodes it (see core/catalog-snapshot.ts). */
  readonly state: Json;
}

/** Where a tail starts: the oldest record still held, an offset (inclusive), or only new records. */
export type TailStart = 'first' | 'next' | { readonly offset: number };

/** A live reader of a log. */
export interface Tail {
  /** Stops delivery; idempotent. */
  close(): void;
}

/** Callbacks of a tail. `onRecord` is called once per record, in offset order, never concurrently. */
export interface TailHandler {
  onRecord(record: LogRecord): void;
  /**
   * The log was removed and created again behind the bridge's back (an operator deleted its
   * stream while the queue still existed): its offsets started again, so the records after the
   * last one delivered may sit at offsets already passed. When set, the tail stops and calls
   * this, and its owner starts over on the new log; when not, the tail reads on from its
   * position, as it would on the same log.
   */
  onReplaced?(): void;
}

export type BackendStatus =
  | { readonly type: 'up' }
  | { readonly type: 'down'; readonly cause?: unknown };

/**
 * The store of ordered, durable logs (the queue event logs and the catalogue).
 *
 * Contract:
 * - `append` resolves only once the store holds the event durably (RabbitMQ: publisher
 *   confirm); while the store is unreachable it rejects quickly with a `ZaqarError` of code
 *   `ZQR_ERR_BROKER_UNAVAILABLE` (never hangs).
 * - A tail delivers every record from its start, in offset order, exactly once per tail,
 *   including records appended by other processes; after a connection loss it resumes after
 *   the last record it delivered.
 * - Records older than the backend's retention may disappear from the head of a log.
 * - `start()` and `close()` are idempotent; `close()` ends every tail.
 */
export interface Backend {
  /** Short name for logs and health (`memory`, `rabbitmq`). */
  readonly name: string;
  start(): Promise<void>;
  close(): Promise<void>;
  append(log: LogRef, event: LogEvent): Promise<void>;
  tail(log: LogRef, start: TailStart, handler: TailHandler): Tail;
  /** Offset of the oldest record still held, or null when the log is empty or unknown. */
  firstOffset(log: LogRef): Promise<number | null>;
  /**
   * Removes a queue log with every record it holds (a deleted queue leaves nothing behind on
   * the store). Resolves once the store has removed it; removing a log that does not exist
   * succeeds. Tails of it deliver nothing more (their owner closes them). A later append or
   * tail starts a new, empty log whose offsets may start again from 0.
   */
  deleteLog(log: LogRef & { readonly kind: 'queue' }): Promise<void>;
  /**
   * Stores a snapshot of the folded catalogue durably (resolves after the broker confirmed it).
   * Snapshots of the same offset are equal whichever pod writes them, so several pods may.
   */
  saveCatalogSnapshot(snapshot: LogSnapshot): Promise<void>;
  /**
   * The newest catalogue snapshot held (or, where the store cannot tell newest from recent,
   * one of the most recent), or null when there is none. A pod restores it and tails the
   * catalogue from the record after it.
   */
  loadCatalogSnapshot(): Promise<LogSnapshot | null>;
  status(): BackendStatus;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: BackendStatus) => void): () => void;
}

/** Messages just stored by a post, with the webhook subscriptions to notify. */
export interface PostedMessages {
  readonly project: string;
  readonly queue: string;
  /** The queue's stored metadata (its `_retry_policy` is the webhooks' default). */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly messages: readonly Notification[];
  /** The queue's live webhook subscriptions (`http`, `https`, … — not WebSocket ones). */
  readonly webhooks: readonly SubscriptionView[];
}

/**
 * Told of every post once, by the pod that accepted it (not by every pod folding the log), after
 * it is stored: where webhook delivery hooks in, as Zaqar notifies from the process that took
 * the post. Must not throw or block; delivery is its own business.
 */
export interface PostedSink {
  posted(p: PostedMessages): void;
}

/** Source of the current time (ms since the epoch); injected so tests control time. */
export type Clock = () => number;

/** Source of unique ids (message, claim, subscription, request ids). */
export type IdSource = () => string;

/**
 * Checks message bodies against the JSON Schema bound to a queue (issue: JSON Schema
 * validation). The core calls it on every post, whatever the way in, before anything is
 * stored. Implemented by `src/validation` with one ajv instance.
 */
export interface MessageValidator {
  /**
   * Validates a batch. `metadata` is the queue's stored metadata (its `_schema` key binds a
   * schema by name); configured queue-name patterns apply too. Returns null when every body is
   * valid (or no schema applies), else the error text naming the message index, the failing
   * JSON path and rule, e.g. `Message 2 is invalid: /payload/status must be one of RUNNING,
   * SUCCESS, FAILED`.
   */
  validate(queue: string, metadata: Readonly<Record<string, unknown>>, bodies: readonly unknown[]): string | null;
  /** Whether a schema of that short name is known (for the `_schema` metadata key). */
  hasSchema(name: string): boolean;
}

/** The schemas known to the service, for `GET /v2/schemas` and `GET /v2/schemas/{name}`. */
export interface SchemaCatalog {
  list(): readonly { readonly name: string; readonly title: string }[];
  /** The schema document, or undefined when unknown. */
  get(name: string): Readonly<Record<string, unknown>> | undefined;
}
