/**
 * amqplib failures translated to core errors at the adapter boundary (style point 12).
 *
 * amqplib reports broker replies in two shapes: channel/connection closes carry a numeric
 * `code` (the AMQP reply code), while handshake failures only put it in the message text
 * (`Handshake terminated by server: 403 (ACCESS-REFUSED) …`). {@link replyCodeOf} reads both.
 */
import { ZaqarError, errors } from '../../core/errors.js';

/** AMQP 0.9.1 reply codes we name (spec §1.9 "Constants"). */
export const AMQP_REPLY = {
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  CONNECTION_FORCED: 320,
  INVALID_PATH: 402,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const;

/**
 * Reply codes that retrying the same operation cannot fix: wrong credentials or vhost,
 * permissions, inequivalent declarations, protocol misuse. A connection that fails the
 * handshake with one of them is not redialled (the backend goes to `failed`); an operation that
 * fails with one is rejected with `ZQR_ERR_INTERNAL`, not 503, so callers do not retry blindly.
 * 404 and 406 are handled where they are expected (lazy declaration, passive fallback) before
 * this list is consulted.
 */
export const FATAL_REPLY_CODES: ReadonlySet<number> = new Set([
  AMQP_REPLY.INVALID_PATH,
  AMQP_REPLY.ACCESS_REFUSED,
  AMQP_REPLY.NOT_FOUND,
  AMQP_REPLY.PRECONDITION_FAILED,
  AMQP_REPLY.FRAME_ERROR,
  AMQP_REPLY.SYNTAX_ERROR,
  AMQP_REPLY.COMMAND_INVALID,
  AMQP_REPLY.UNEXPECTED_FRAME,
  AMQP_REPLY.NOT_ALLOWED,
  AMQP_REPLY.NOT_IMPLEMENTED,
]);

const HANDSHAKE_CODE = /^Handshake terminated by server: (\d{3}) /;
// amqplib's text when the broker closes the connection instead of answering connection.open
// (unknown vhost, or no permission on it): the reply code is not surfaced, it is 530 NOT_ALLOWED.
const OPEN_REFUSED = /^Expected ConnectionOpenOk; got <ConnectionClose/;

/** The AMQP reply code carried by an amqplib error, or null (socket errors, timeouts, …). */
export function replyCodeOf(err: unknown): number | null {
  if (!(err instanceof Error)) return null;
  const code: unknown = (err as Error & { code?: unknown }).code;
  if (typeof code === 'number' && Number.isInteger(code)) return code;
  const m = HANDSHAKE_CODE.exec(err.message);
  if (m?.[1] !== undefined) return Number(m[1]);
  if (OPEN_REFUSED.test(err.message)) return AMQP_REPLY.NOT_ALLOWED;
  return null;
}

/** True when the error carries a reply code from {@link FATAL_REPLY_CODES}. */
export function isFatal(err: unknown): boolean {
  const code = replyCodeOf(err);
  return code !== null && FATAL_REPLY_CODES.has(code);
}

/** `ZQR_ERR_BROKER_UNAVAILABLE` (503) with the amqplib error kept as `cause`. */
export function brokerUnavailable(what: string, cause?: unknown): ZaqarError {
  return errors.brokerUnavailable(what, cause);
}

/**
 * Maps any failure of a broker operation to a core error: core errors pass through, fatal
 * reply codes become `ZQR_ERR_INTERNAL` (500, a deployment problem a retry will not fix),
 * everything else (connection loss, channel closed, timeouts) becomes 503.
 */
export function toCoreError(err: unknown, what: string): ZaqarError {
  if (err instanceof ZaqarError) return err;
  if (isFatal(err)) {
    return new ZaqarError('ZQR_ERR_INTERNAL', `${what} The message broker refused the operation.`, { cause: err });
  }
  return brokerUnavailable(what, err);
}

/** The error's message, for diagnostics. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
