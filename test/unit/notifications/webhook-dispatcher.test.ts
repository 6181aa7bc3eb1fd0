import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PostedMessages, SubscriptionView } from '../../../src/core/index.js';
import { WebhookDispatcher, type DeliveryOutcome, type WebhookDispatcherOptions } from '../../../src/notifications/index.js';

interface Call {
  readonly url: string;
  readonly body: string;
  readonly headers: Headers;
  readonly at: number;
}

/** A scripted fetch: each call takes the next answer (a status, or 'error' to throw); then 200. */
function fakeFetch(answers: (number | 'error' | 'hang')[] = []) {
  const calls: Call[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), body: String(init?.body), headers: new Headers(init?.headers), at: Date.now() });
    const a = answers.shift() ?? 200;
    if (a === 'error') throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    if (a === 'hang') {
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)));
    }
    return new Response(a === 204 ? null : 'ignored', { status: a });
  };
  return { calls, fetch: vi.fn(impl) as unknown as typeof fetch };
}

function sub(id: string, subscriber: string, options: SubscriptionView['options'] = {}): SubscriptionView {
  return { id, source: 'q', subscriber, ttl: 3600, age: 0, options, confirmed: false };
}

function post(webhooks: SubscriptionView[], bodies: unknown[] = [{ a: 1 }], metadata: Record<string, unknown> = {}): PostedMessages {
  return {
    project: 'p',
    queue: 'q',
    metadata,
    webhooks,
    messages: bodies.map((body, i) => ({ project: 'p', queue: 'q', messageId: `m${i}`, marker: String(i), ttl: 60, body: body as never })),
  };
}

const HOOK = 'http://127.0.0.1:9/hook';
/** Only immediate retries: `n` of them. */
const immediate = (n: number) => ({ _retry_policy: { retries_with_no_delay: n, minimum_delay_retries: 0, maximum_delay_retries: 0, minimum_delay: 5, maximum_delay: 5 } });

let outcomes: Record<DeliveryOutcome, number>;
let dispatcher: WebhookDispatcher | undefined;

function make(f: typeof fetch, extra: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  dispatcher = new WebhookDispatcher({
    logger: pino({ level: 'silent' }),
    fetch: f,
    onOutcome: (o, n) => {
      outcomes[o] += n;
    },
    ...extra,
  });
  return dispatcher;
}

beforeEach(() => {
  outcomes = { delivered: 0, failed: 0, dropped: 0 };
  vi.useFakeTimers({ now: 0 });
});

afterEach(async () => {
  const d = dispatcher;
  dispatcher = undefined;
  if (d !== undefined) {
    const closed = d.close(10);
    if (vi.isFakeTimers()) await vi.runAllTimersAsync();
    await closed;
  }
  vi.useRealTimers();
});

describe('WebhookDispatcher', () => {
  it('POSTs each message to each webhook with the notification body and headers', async () => {
    const { calls, fetch } = fakeFetch();
    const d = make(fetch);
    d.posted(post([sub('s1', HOOK), sub('s2', 'http://127.0.0.1:9/tmpl', { post_data: '{"w": "$zaqar_message$"}', post_headers: { 'X-Custom': 'yes' } })]));
    await vi.runAllTimersAsync();
    const n = '{"ttl": 60, "body": {"a": 1}, "Message_Type": "Notification", "queue_name": "q"}';
    expect(calls.map((c) => [c.url, c.body])).toEqual([
      [HOOK, n],
      ['http://127.0.0.1:9/tmpl', `{"w": ${n}}`],
    ]);
    expect(calls[1]?.headers.get('content-type')).toBe('application/json');
    expect(calls[1]?.headers.get('x-custom')).toBe('yes');
    expect(outcomes).toEqual({ delivered: 2, failed: 0, dropped: 0 });
    expect(d.inFlight).toBe(0);
  });

  it('asks the SSRF guard before every attempt: a subscriber that now resolves inward is never POSTed', async () => {
    const { calls, fetch } = fakeFetch([500]);
    // Public at the first attempt, loopback at the retry (DNS changed meanwhile).
    const answers = [null, 'The subscriber\'s address 127.0.0.1 is loopback'];
    const asked: string[] = [];
    const guard = { refusal: async (uri: string) => (asked.push(uri), answers.shift() ?? null) };
    make(fetch, { guard }).posted(post([sub('s', 'http://hooks.example/x', immediate(3))]));
    await vi.runAllTimersAsync();
    expect(asked).toEqual(['http://hooks.example/x', 'http://hooks.example/x']);
    expect(calls).toHaveLength(1);
    expect(outcomes).toEqual({ delivered: 0, failed: 1, dropped: 0 });
  });

  it.each([200, 204, 301, 404, 499])('takes status %i as done (no retry)', async (status) => {
    const { calls, fetch } = fakeFetch([status]);
    make(fetch).posted(post([sub('s', HOOK)]));
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(1);
    expect(outcomes.delivered).toBe(1);
  });

  it.each([500, 503, 599, 'error' as const])('retries after %s', async (answer) => {
    const { calls, fetch } = fakeFetch([answer, answer]);
    make(fetch).posted(post([sub('s', HOOK, immediate(3))]));
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(3);
    expect(outcomes).toEqual({ delivered: 1, failed: 0, dropped: 0 });
  });

  it('follows the default policy’s timing, then gives up (15 attempts)', async () => {
    const { calls, fetch } = fakeFetch(Array<number>(20).fill(500));
    make(fetch).posted(post([sub('s', HOOK)]));
    await vi.runAllTimersAsync();
    expect(calls.map((c) => c.at / 1000)).toEqual([0, 0, 0, 0, 5, 10, 15, 20, 30, 45, 65, 90, 120, 150, 180]);
    expect(outcomes).toEqual({ delivered: 0, failed: 1, dropped: 0 });
  });

  // The backoff phase's delays for 1 → 60 s, from Zaqar's formulas run in Python 3.
  it.each([
    ['linear', [1, 6, 11, 16, 21, 26, 31, 36, 41, 46, 51, 56]],
    ['geometric', [1, 1, 2, 3, 5, 7, 11, 17, 26, 39, 59]],
    ['exponential', [1, 1, 2, 3, 5, 7, 11, 17, 26, 39, 59]],
    ['arithmetic', [1, 2, 4, 7, 11, 17, 23, 31, 39, 49, 60]],
  ])('waits per the %s backoff function (queue policy)', async (fn, delays) => {
    const { calls, fetch } = fakeFetch(Array<number>(30).fill(502));
    const metadata = { _retry_policy: { retries_with_no_delay: 0, minimum_delay_retries: 0, minimum_delay: 1, maximum_delay: 60, maximum_delay_retries: 0, retry_backoff_function: fn } };
    make(fetch).posted(post([sub('s', HOOK)], [{ a: 1 }], metadata));
    await vi.runAllTimersAsync();
    let t = 0;
    expect(calls.map((c) => c.at / 1000)).toEqual([0, ...delays.map((d) => (t += d))]);
    expect(outcomes.failed).toBe(1);
  });

  it('keeps one post’s messages in order per subscriber, retries included', async () => {
    const { calls, fetch } = fakeFetch(['error', 500]);
    make(fetch).posted(post([sub('s', HOOK, immediate(3))], [1, 2, 3]));
    await vi.runAllTimersAsync();
    expect(calls.map((c) => (JSON.parse(c.body) as { body: number }).body)).toEqual([1, 1, 1, 2, 3]);
    expect(outcomes.delivered).toBe(3);
  });

  it('moves on to the next message after giving one up', async () => {
    const { calls, fetch } = fakeFetch([500, 500]);
    make(fetch).posted(post([sub('s', HOOK, immediate(1))], [1, 2]));
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(3);
    expect(outcomes).toEqual({ delivered: 1, failed: 1, dropped: 0 });
  });

  it('skips mailto, trust and WebSocket subscriptions', async () => {
    const { calls, fetch } = fakeFetch();
    const ws = { ...sub('w', 'http://127.0.0.1:9/ws'), websocket: true };
    make(fetch).posted(post([sub('m', 'mailto:a@example.org'), sub('t', 'trust+http://127.0.0.1:9/t'), ws]));
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(0);
    expect(outcomes).toEqual({ delivered: 0, failed: 0, dropped: 0 });
  });

  it('never throws into the caller', () => {
    const d = make((() => {
      throw new Error('boom');
    }) as unknown as typeof fetch, { onOutcome: () => { throw new Error('metrics'); } });
    expect(() => d.posted(post([sub('s', HOOK, { post_headers: { 'bad name': 'x' } }), sub('t', HOOK, immediate(0))]))).not.toThrow();
  });

  it('drops deliveries beyond maxInFlight, keeping memory bounded', async () => {
    const { calls, fetch } = fakeFetch(['hang', 'hang', 'hang']);
    const d = make(fetch, { maxInFlight: 3 });
    d.posted(post([sub('a', HOOK), sub('b', 'http://127.0.0.1:9/b')], [1, 2]));
    expect(d.inFlight).toBe(3);
    expect(outcomes.dropped).toBe(1);
    d.posted(post([sub('a', HOOK)], [3]));
    expect(outcomes.dropped).toBe(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(2);
  });

  it('times a hanging POST out and retries it', async () => {
    const { calls, fetch } = fakeFetch(['hang']);
    vi.useRealTimers();
    make(fetch, { timeoutMs: 20 }).posted(post([sub('s', HOOK, immediate(1))]));
    await vi.waitFor(() => expect(outcomes.delivered).toBe(1));
    expect(calls).toHaveLength(2);
  });

  it('close cancels pending retries, drops what is queued, and refuses new posts', async () => {
    const { calls, fetch } = fakeFetch(Array<number>(20).fill(500));
    const d = make(fetch);
    d.posted(post([sub('s', HOOK)], [1, 2]));
    await vi.advanceTimersByTimeAsync(1_000); // 4 attempts, now waiting 5 s for the next
    expect(calls).toHaveLength(4);
    await d.close(1_000);
    expect(outcomes).toEqual({ delivered: 0, failed: 0, dropped: 2 });
    expect(d.inFlight).toBe(0);
    d.posted(post([sub('s', HOOK)]));
    expect(outcomes.dropped).toBe(3);
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(4);
    expect(d.close()).toBe(d.close());
  });

  it('close waits for POSTs in flight, then aborts them at the deadline', async () => {
    const { fetch } = fakeFetch(['hang']);
    const d = make(fetch);
    d.posted(post([sub('s', HOOK)]));
    let closed = false;
    const closing = d.close(500).then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(outcomes).toEqual({ delivered: 0, failed: 0, dropped: 1 });
  });
});
