/**
 * Secret scrubbing for log lines and error messages.
 */
import { splitAmqpUrls } from '../lib/amqp-urls.js';

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/**
 * Returns `url` with the password (and any `password`/`token` query parameter) replaced by
 * {@link REDACTED}; the user name, host, port and path are kept so the line stays useful.
 * A string that does not parse as a URL is returned with any `user:pass@` part scrubbed
 * textually, so a malformed AMQP URL in a config error does not leak either.
 *
 * @example redactUrl('amqp://guest:secret@mq:5672/vh') === 'amqp://guest:[REDACTED]@mq:5672/vh'
 */
export function redactUrl(url: string): string {
  // A cluster's list of URLs: each one.
  const list = splitAmqpUrls(url);
  if (list.length > 1) return list.map((u) => redactUrl(u)).join(',');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, `//$1:${REDACTED}@`);
  }
  if (parsed.password !== '') parsed.password = REDACTED;
  for (const key of [...parsed.searchParams.keys()]) {
    if (/^(password|passwd|token|secret)$/i.test(key)) parsed.searchParams.set(key, REDACTED);
  }
  // URL percent-encodes the brackets of the placeholder; put them back for readability.
  return parsed.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED);
}
