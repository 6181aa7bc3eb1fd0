/**
 * The pino root logger. Every other logger is a child of it (per HTTP request, per WS
 * connection). Secrets are redacted here, once: Keystone tokens, authorization headers,
 * and the password inside AMQP URLs.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { REDACTED, redactUrl } from './redact.js';

/**
 * Paths scrubbed from every log line. Header names appear both as Node lower-cases them
 * (REST) and as Zaqar clients spell them inside WebSocket frames (`X-Auth-Token`).
 */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-auth-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers.Authorization',
  'headers["x-auth-token"]',
  'headers["X-Auth-Token"]',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["x-auth-token"]',
  '*.headers["X-Auth-Token"]',
  'password',
  '*.password',
  'token',
  '*.token',
  // URL-valued fields keep everything but the password (see censor below).
  'url',
  'amqpUrl',
  '*.url',
  '*.amqpUrl',
];

export interface LoggerOptions {
  /** pino level; default `info`. */
  readonly level?: string;
  /** Where lines go; default stdout (pino's `sonic-boom`). Tests pass a capture stream. */
  readonly destination?: DestinationStream;
}

/** Creates the root logger. No I/O until the first line is written. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: 'zaqar-bridge' },
    redact: { paths: [...REDACT_PATHS], censor },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

/** URL fields keep their non-secret parts; anything else on a redacted path is replaced. */
function censor(value: unknown, path: string[]): unknown {
  const key = path.at(-1);
  if (key === 'url' || key === 'amqpUrl') return typeof value === 'string' ? redactUrl(value) : value;
  return REDACTED;
}
