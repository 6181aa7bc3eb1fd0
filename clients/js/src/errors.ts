/** Errors the client reports: an answer from the server, a timeout, a lost connection. */

/** A non-2xx answer, in Zaqar's WebSocket error shape `{"exception": "…", "error": …}`. */
export class ZaqarError extends Error {
  override readonly name = 'ZaqarError';
  /** The HTTP-like status of the answer (400, 401, 403, 404, 503…). */
  readonly status: number;
  /** The action that was refused (`message_post`, `subscription_create`…). */
  readonly action: string;
  /** The answer's body as sent. */
  readonly body: unknown;
  /**
   * For a schema violation ("Message 2 is invalid: /payload/status must be one of …"): the JSON
   * path of the bad field (`/payload/status`, `/` for the whole body); otherwise null.
   */
  readonly field: string | null;
  /** For a schema violation: which message of the post, counted from 1; otherwise null. */
  readonly messageIndex: number | null;

  constructor(action: string, status: number, body: unknown) {
    const text = errorText(body) ?? `${action} answered ${status}`;
    super(text);
    this.action = action;
    this.status = status;
    this.body = body;
    const invalid = /^Message (\d+) is invalid: (\S+) /.exec(text);
    this.field = invalid?.[2] ?? null;
    this.messageIndex = invalid?.[1] === undefined ? null : Number(invalid[1]);
  }
}

/** A request that got no answer within `requestTimeoutMs` (the socket is then replaced). */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * The connection closed before the answer came. For `post`, the message may or may not have
 * been stored: post again only if a duplicate is acceptable.
 */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

function errorText(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  for (const key of ['exception', 'error', 'message', 'description']) {
    const v = record[key];
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}
