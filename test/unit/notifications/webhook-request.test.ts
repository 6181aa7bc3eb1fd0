import { describe, expect, it } from 'vitest';
import { MESSAGE_PLACEHOLDER, notificationJson, requestBody, requestHeaders, webhookTarget } from '../../../src/notifications/index.js';

describe('notificationJson', () => {
  it('has Zaqar’s keys in Zaqar’s order, serialized like json.dumps', () => {
    expect(notificationJson('hookq1', { ttl: 120, body: { a: 1 } })).toBe(
      '{"ttl": 120, "body": {"a": 1}, "Message_Type": "Notification", "queue_name": "hookq1"}',
    );
  });

  it('escapes non-ASCII as \\uXXXX (ensure_ascii) and keeps any body', () => {
    expect(notificationJson('q', { ttl: 60, body: 'é' })).toBe('{"ttl": 60, "body": "\\u00e9", "Message_Type": "Notification", "queue_name": "q"}');
    expect(notificationJson('q', { ttl: 60, body: null })).toBe('{"ttl": 60, "body": null, "Message_Type": "Notification", "queue_name": "q"}');
  });
});

describe('requestBody', () => {
  const n = notificationJson('q', { ttl: 60, body: { a: 1 } });

  it('is the notification without post_data', () => {
    expect(requestBody({}, n)).toBe(n);
  });

  it('replaces the quoted placeholder in post_data, every occurrence', () => {
    expect(requestBody({ post_data: '{"wrapped": "$zaqar_message$", "k": 1}' }, n)).toBe(`{"wrapped": ${n}, "k": 1}`);
    expect(requestBody({ post_data: `[${MESSAGE_PLACEHOLDER}, ${MESSAGE_PLACEHOLDER}]` }, n)).toBe(`[${n}, ${n}]`);
  });

  it('leaves an unquoted placeholder alone (the quotes are part of it)', () => {
    expect(requestBody({ post_data: 'x $zaqar_message$ y' }, n)).toBe('x $zaqar_message$ y');
  });

  it('inserts the notification literally, even with $ patterns in it', () => {
    const tricky = notificationJson('q', { ttl: 60, body: "$& $' $$ $1" });
    expect(requestBody({ post_data: '{"m": "$zaqar_message$"}' }, tricky)).toBe(`{"m": ${tricky}}`);
  });

  it('ignores a post_data that is not a string', () => {
    expect(requestBody({ post_data: { x: 1 } }, n)).toBe(n);
  });
});

describe('requestHeaders', () => {
  const url = new URL('http://127.0.0.1:9/x');

  it('sends JSON with our user agent', () => {
    const h = requestHeaders({}, url);
    expect(h.get('content-type')).toBe('application/json');
    expect(h.get('user-agent')).toBe('zaqar-bridge');
    expect(h.get('authorization')).toBeNull();
  });

  it('adds post_headers (string values), which may override the defaults', () => {
    const h = requestHeaders({ post_headers: { 'X-Custom': 'yes', 'Content-Type': 'text/plain', 'X-Num': 3 } }, url);
    expect(h.get('x-custom')).toBe('yes');
    expect(h.get('content-type')).toBe('text/plain');
    expect(h.has('x-num')).toBe(false);
  });

  it('sends user info as HTTP basic credentials', () => {
    const h = requestHeaders({}, new URL('http://al%20ice:s%3Acret@127.0.0.1:9/x'));
    expect(h.get('authorization')).toBe(`Basic ${Buffer.from('al ice:s:cret').toString('base64')}`);
  });

  it('throws on a header name HTTP does not allow', () => {
    expect(() => requestHeaders({ post_headers: { 'bad name': 'x' } }, url)).toThrow(TypeError);
  });
});

describe('webhookTarget', () => {
  const sub = (subscriber: string, options: Record<string, string> = {}): { subscriber: string; options: Record<string, string> } => ({ subscriber, options });

  it('accepts http and https, and strips user info from the request URL', () => {
    expect(webhookTarget(sub('http://127.0.0.1:9/a'))).toMatchObject({ request: 'http://127.0.0.1:9/a' });
    expect(webhookTarget(sub('https://u:p@127.0.0.1:9/a?b=1'))).toMatchObject({ request: 'https://127.0.0.1:9/a?b=1' });
  });

  it('does not deliver mailto or unparsable subscribers', () => {
    expect(webhookTarget(sub('mailto:ops@example.org'))).toBe('unsupported_scheme');
    expect(webhookTarget(sub('http://'))).toBe('invalid_url');
    expect(webhookTarget(sub('trust+ftp://127.0.0.1:9/a'))).toBe('unsupported_scheme');
  });

  it('delivers trust+http(s) without the prefix, with their trust, only when the bridge can get trust tokens', () => {
    const withTrust = sub('trust+https://u:p@127.0.0.1:9/a?b=1', { trust_id: 't-1' });
    expect(webhookTarget(withTrust, true)).toMatchObject({ request: 'https://127.0.0.1:9/a?b=1', trustId: 't-1' });
    expect((webhookTarget(withTrust, true) as { url: URL }).url.username).toBe('u');
    expect(webhookTarget(sub('TRUST+http://127.0.0.1:9/a', { trust_id: 't-2' }), true)).toMatchObject({ request: 'http://127.0.0.1:9/a', trustId: 't-2' });
    expect(webhookTarget(withTrust, false)).toBe('no_trust');
    expect(webhookTarget(sub('trust+http://127.0.0.1:9/a'), true)).toBe('no_trust');
    expect(webhookTarget(sub('http://127.0.0.1:9/a', { trust_id: 't-3' }), true)).not.toHaveProperty('trustId');
  });
});
