/**
 * The catalogue of every error the bridge can return, in Zaqar's words.
 *
 * Each entry has a stable `ZQR_ERR_*` code and an HTTP status. Both transports render the
 * same {@link ZaqarError}: REST as `{"title", "description"}`, WebSocket as
 * `{"exception", "error"}` (Zaqar's endpoint-level error shape, reference §3.3).
 * Texts are copied from Zaqar 15.0.0 (reference §5), quirks and all.
 */

export const ERROR_CODES = {
  // ── request validation ──────────────────────────────────────────────────────
  ZQR_ERR_VALIDATION: 400,
  ZQR_ERR_INVALID_QUEUE_NAME: 400,
  ZQR_ERR_BAD_REQUEST_BODY: 400,
  ZQR_ERR_MESSAGE_BODY_SCHEMA: 400,
  // ── not found ───────────────────────────────────────────────────────────────
  ZQR_ERR_QUEUE_NOT_FOUND: 404,
  ZQR_ERR_MESSAGE_NOT_FOUND: 404,
  ZQR_ERR_MESSAGES_NOT_FOUND: 404,
  ZQR_ERR_CLAIM_NOT_FOUND: 404,
  ZQR_ERR_SUBSCRIPTION_NOT_FOUND: 404,
  // ── claims and deletes ──────────────────────────────────────────────────────
  ZQR_ERR_MESSAGE_CLAIMED: 403,
  ZQR_ERR_CLAIM_INVALID: 400,
  ZQR_ERR_MESSAGE_NOT_CLAIMED: 400,
  // ── conflicts ───────────────────────────────────────────────────────────────
  ZQR_ERR_CONFLICT: 409,
  // ── availability ────────────────────────────────────────────────────────────
  ZQR_ERR_BROKER_UNAVAILABLE: 503,
  ZQR_ERR_INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Options of a {@link ZaqarError}; everything but the texts has a default from the catalogue. */
export interface ZaqarErrorOptions {
  /** REST `title`; defaults by status ("Invalid API request", "Not found", …). */
  readonly title?: string;
  /** WebSocket `error` summary (`null` for most validation errors, as Zaqar does). */
  readonly wsError?: string | null;
  /** WebSocket `exception` text when it differs from the REST description. */
  readonly wsException?: string;
  readonly cause?: unknown;
}

const DEFAULT_TITLES: Readonly<Record<number, string>> = {
  400: 'Invalid API request',
  403: 'Unable to delete',
  404: 'Not found',
  409: 'Resource conflict',
  500: 'Internal server error',
  503: 'Service temporarily unavailable',
};

/**
 * An error with a Zaqar-shaped rendering on both transports. Thrown by the core and by
 * adapters (which translate foreign errors at their boundary and keep the cause).
 */
export class ZaqarError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  /** REST `description`. */
  readonly description: string;
  /** WebSocket `exception`. */
  readonly wsException: string;
  /** WebSocket `error`. */
  readonly wsError: string | null;

  constructor(code: ErrorCode, description: string, options: ZaqarErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZaqarError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.title = options.title ?? DEFAULT_TITLES[this.status] ?? 'Error';
    this.description = description;
    this.wsException = options.wsException ?? description;
    this.wsError = options.wsError ?? null;
  }
}

/** Factories for the errors with fixed texts, so no text is written twice. */
export const errors = {
  validation: (text: string, wsText?: string): ZaqarError =>
    new ZaqarError('ZQR_ERR_VALIDATION', text, wsText === undefined ? {} : { wsException: wsText }),
  invalidQueueName: (text: string): ZaqarError => new ZaqarError('ZQR_ERR_INVALID_QUEUE_NAME', text),
  queueNotFound: (queue: string, project: string): ZaqarError =>
    new ZaqarError('ZQR_ERR_QUEUE_NOT_FOUND', `Queue ${queue} does not exist for project ${project}`),
  messageNotFound: (id: string, queue: string, project: string): ZaqarError =>
    new ZaqarError(
      'ZQR_ERR_MESSAGE_NOT_FOUND',
      `Message ${id} does not exist in queue ${queue} for project ${project}`,
    ),
  messagesNotFound: (ids: readonly string[], queue: string, project: string): ZaqarError =>
    new ZaqarError(
      'ZQR_ERR_MESSAGES_NOT_FOUND',
      `No messages with IDs: ${pythonList(ids)} found in the queue ${queue} for project ${project}.`,
    ),
  claimNotFound: (claimId: string, queue: string, project: string): ZaqarError =>
    new ZaqarError(
      'ZQR_ERR_CLAIM_NOT_FOUND',
      `Claim ${claimId} does not exist in queue ${queue} for project ${project}`,
      { wsError: `Claim ${claimId} does not exist.` },
    ),
  subscriptionNotFound: (id: string, queue: string): ZaqarError =>
    new ZaqarError('ZQR_ERR_SUBSCRIPTION_NOT_FOUND', `Subscription ${id} does not exist`, {
      wsError: `Subscription ${id} for queue ${queue} does not exist.`,
    }),
  messageClaimed: (id: string): ZaqarError =>
    new ZaqarError(
      'ZQR_ERR_MESSAGE_CLAIMED',
      'This message is claimed; it cannot be deleted without a valid claim ID.',
      { wsException: `Message ${id} is claimed`, wsError: 'This message is claimed; it cannot be deleted without a valid claim ID.' },
    ),
  claimInvalid: (claimId: string, queue: string, project: string): ZaqarError =>
    new ZaqarError('ZQR_ERR_CLAIM_INVALID', 'The specified claim does not exist or has expired.', {
      title: 'Unable to delete',
      wsException: `Claim ${claimId} does not exist in queue ${queue} for project ${project}`,
      wsError: 'The specified claim does not exist or has expired.',
    }),
  messageNotClaimed: (id: string): ZaqarError =>
    new ZaqarError(
      'ZQR_ERR_MESSAGE_NOT_CLAIMED',
      'A claim was specified, but the message is not currently claimed.',
      {
        title: 'Unable to delete',
        wsException: `Message ${id} is no longer claimed`,
        wsError: 'A claim was specified, but the message is not currently claimed.',
      },
    ),
  conflict: (text: string): ZaqarError => new ZaqarError('ZQR_ERR_CONFLICT', text),
  brokerUnavailable: (what: string, cause?: unknown): ZaqarError =>
    new ZaqarError(
      'ZQR_ERR_BROKER_UNAVAILABLE',
      `${what} Please try again in a few seconds.`,
      cause === undefined ? { wsError: 'Service temporarily unavailable.' } : { cause, wsError: 'Service temporarily unavailable.' },
    ),
  bodySchema: (text: string): ZaqarError => new ZaqarError('ZQR_ERR_MESSAGE_BODY_SCHEMA', text),
} as const;

/** Python's `repr()` of a list of strings, as Zaqar puts it in some texts: `['a', 'b']`. */
export function pythonList(items: readonly string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}

/** True when `e` is a {@link ZaqarError}. */
export function isZaqarError(e: unknown): e is ZaqarError {
  return e instanceof ZaqarError;
}
