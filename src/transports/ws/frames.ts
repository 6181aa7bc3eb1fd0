/**
 * The frames the server writes (reference §3.1, §3.3, §3.6), with Zaqar's key order:
 * responses `{request: {action, body, headers, api}, body, headers: {status}}` and
 * notifications `{ttl, body, Message_Type, queue_name}`.
 */
import type { ZaqarError } from '../../core/errors.js';
import type { Json, Notification } from '../../core/types.js';

/** What a response echoes of its request: verbatim, `{}` for an absent body or headers. */
export interface RequestEcho {
  readonly action: unknown;
  readonly body: unknown;
  readonly headers: unknown;
}

/** Echo of a frame that could not be decoded or was not an object. */
export const NULL_ECHO: RequestEcho = Object.freeze({ action: null, body: {}, headers: {} });

/** Echo of `authenticate`: Zaqar never echoes its headers (they carry the token). */
export const AUTH_ECHO: RequestEcho = Object.freeze({ action: 'authenticate', body: {}, headers: {} });

export interface ResponseFrame {
  readonly request: { readonly action: unknown; readonly body: unknown; readonly headers: unknown; readonly api: 'v2' };
  readonly body: Json;
  readonly headers: { readonly status: number };
}

export function responseFrame(echo: RequestEcho, body: Json, status: number): ResponseFrame {
  return {
    request: { action: echo.action, body: echo.body, headers: echo.headers, api: 'v2' },
    body,
    headers: { status },
  };
}

/** Protocol-level error body (request steps 1–4). */
export function protocolError(text: string): Json {
  return { error: text };
}

/** Endpoint-level error body of a known error. */
export function endpointError(err: ZaqarError): Json {
  return { exception: err.wsException, error: err.wsError };
}

/** Endpoint-level error body of an unexpected failure (status 500). */
export function unexpectedError(cause: unknown): Json {
  const text = cause instanceof Error ? cause.message : String(cause);
  return { exception: text, error: 'Unexpected error.' };
}

/** The bare notification Zaqar pushes to subscribers (no id, no request, no headers). */
export function notificationFrame(n: Notification): Json {
  return { ttl: n.ttl, body: n.body, Message_Type: 'Notification', queue_name: n.queue };
}

/** The notification of a client that opted in to reattach: Zaqar's shape plus id and marker. */
export function reattachNotificationFrame(n: Notification): Json {
  return { ttl: n.ttl, body: n.body, Message_Type: 'Notification', queue_name: n.queue, message_id: n.messageId, marker: n.marker };
}
