/**
 * What one webhook POST carries (reference §2.9): the notification document, the optional
 * `post_data` template, the headers, and the target URL. Pure functions, no I/O.
 */
import type { Notification, SubscriptionView } from '../core/index.js';
import { pyJson } from '../lib/py-json.js';

/** The literal, quotes included, that `post_data` templates replace by the notification. */
export const MESSAGE_PLACEHOLDER = '"$zaqar_message$"';

/** Sent unless `post_headers` names its own `User-Agent`. */
export const DEFAULT_USER_AGENT = 'zaqar-bridge';

/**
 * The notification JSON, Python-style: `{"ttl", "body", "Message_Type": "Notification",
 * "queue_name"}` in that key order, as Zaqar's notifier builds it.
 */
export function notificationJson(queue: string, message: Pick<Notification, 'ttl' | 'body'>): string {
  return pyJson({ ttl: message.ttl, body: message.body, Message_Type: 'Notification', queue_name: queue });
}

/**
 * The request body: the notification JSON, or, when the subscription's options carry a string
 * `post_data`, that template with every `"$zaqar_message$"` replaced by it (a non-string
 * `post_data` is ignored; Zaqar fails on it and delivers nothing).
 */
export function requestBody(options: Readonly<Record<string, unknown>>, notification: string): string {
  const template = options['post_data'];
  if (typeof template !== 'string') return notification;
  // A replacer function: the notification may contain `$&`-style replacement patterns.
  return template.replaceAll(MESSAGE_PLACEHOLDER, () => notification);
}

/**
 * The request headers: `Content-Type: application/json`, then `post_headers` (string values
 * only; they may override Content-Type and User-Agent), then HTTP basic credentials from the
 * URL's user info, as python-requests sends them. Throws a `TypeError` on a header name or
 * value that HTTP does not allow.
 */
export function requestHeaders(options: Readonly<Record<string, unknown>>, target: URL): Headers {
  // Insertion order is sending order: python-requests' (User-Agent, Content-Type, extras).
  const headers = new Headers([
    ['User-Agent', DEFAULT_USER_AGENT],
    ['Content-Type', 'application/json'],
  ]);
  const extra = options['post_headers'];
  if (typeof extra === 'object' && extra !== null && !Array.isArray(extra)) {
    for (const [name, value] of Object.entries(extra)) if (typeof value === 'string') headers.set(name, value);
  }
  if (target.username !== '' || target.password !== '') {
    const user = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
    headers.set('Authorization', `Basic ${Buffer.from(user, 'utf8').toString('base64')}`);
  }
  return headers;
}

/** Why a subscription gets no POST. */
export type NotDeliveredReason = 'unsupported_scheme' | 'invalid_url' | 'no_trust';

/** Where a webhook goes, and the Keystone trust its POSTs carry a token of (`trust+` subscribers). */
export interface WebhookTarget {
  readonly url: URL;
  /** `url` without user info. */
  readonly request: string;
  readonly trustId?: string;
}

const TRUST_PREFIX = /^trust\+(?=https?:)/i;

/**
 * The URL to POST to, without user info (fetch refuses credentials in URLs; they travel in
 * `Authorization`), or why the subscription is not a webhook we deliver. `trust+http(s):`
 * subscribers are POSTed to without the prefix, with a token of the trust in their options
 * (`trusts`: whether this bridge can get one, i.e. runs with Keystone); without a trust id
 * or without Keystone they are not delivered. `mailto:` is not delivered (no mail relay).
 */
export function webhookTarget(sub: Pick<SubscriptionView, 'subscriber' | 'options'>, trusts = false): WebhookTarget | NotDeliveredReason {
  const trust = TRUST_PREFIX.test(sub.subscriber);
  let url: URL;
  try {
    url = new URL(sub.subscriber.replace(TRUST_PREFIX, ''));
  } catch {
    return 'invalid_url';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'unsupported_scheme';
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  if (!trust) return { url, request: bare.href };
  const trustId = sub.options['trust_id'];
  if (!trusts || typeof trustId !== 'string' || trustId === '') return 'no_trust';
  return { url, request: bare.href, trustId };
}
