/**
 * Zaqar's limits and defaults (reference §2.10). All durations are in seconds, sizes in bytes.
 * The deployment may override them through configuration; {@link DEFAULT_LIMITS} are Zaqar's.
 */
export interface Limits {
  /** Largest message post (REST: Content-Length; WS: JSON length of `messages`). Default 262144. */
  readonly maxMessagesPostSize: number;
  /** Largest queue metadata document. Default 65536. */
  readonly maxQueueMetadata: number;
  /** Message ttl bounds and default. 60 .. 1209600, default 3600. */
  readonly minMessageTtl: number;
  readonly maxMessageTtl: number;
  readonly defaultMessageTtl: number;
  /** Largest message delay. Default 900. */
  readonly maxMessageDelay: number;
  /** Claim ttl/grace bounds and defaults. 60 .. 43200, defaults 300 and 60. */
  readonly minClaimTtl: number;
  readonly maxClaimTtl: number;
  readonly defaultClaimTtl: number;
  readonly minClaimGrace: number;
  readonly maxClaimGrace: number;
  readonly defaultClaimGrace: number;
  /** Page sizes: 1 .. 20, default 10 (messages, queues, subscriptions). */
  readonly maxMessagesPerPage: number;
  readonly maxMessagesPerClaimOrPop: number;
  readonly maxQueuesPerPage: number;
  readonly maxSubscriptionsPerPage: number;
  readonly defaultPageSize: number;
  /** Subscription ttl: minimum 60, default 3600. */
  readonly minSubscriptionTtl: number;
  readonly defaultSubscriptionTtl: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxMessagesPostSize: 262_144,
  maxQueueMetadata: 65_536,
  minMessageTtl: 60,
  maxMessageTtl: 1_209_600,
  defaultMessageTtl: 3_600,
  maxMessageDelay: 900,
  minClaimTtl: 60,
  maxClaimTtl: 43_200,
  defaultClaimTtl: 300,
  minClaimGrace: 60,
  maxClaimGrace: 43_200,
  defaultClaimGrace: 60,
  maxMessagesPerPage: 20,
  maxMessagesPerClaimOrPop: 20,
  maxQueuesPerPage: 20,
  maxSubscriptionsPerPage: 20,
  defaultPageSize: 10,
  minSubscriptionTtl: 60,
  defaultSubscriptionTtl: 3_600,
});

/** Longest project id (reference §2.1). */
export const MAX_PROJECT_ID_LENGTH = 256;
/** Longest queue name (reference §2.2). */
export const MAX_QUEUE_NAME_LENGTH = 64;
/** Queue names: letters, digits, `_`, `-` and `.` (the error text omits the dot; Zaqar accepts it). */
export const QUEUE_NAME_PATTERN = /^[a-zA-Z0-9_\-.]+$/;
