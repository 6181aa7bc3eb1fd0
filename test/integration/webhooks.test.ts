/**
 * Webhook delivery end to end (reference §2.9): the whole app on port 0 with a local HTTP
 * listener (127.0.0.1, port 0) as the subscriber. Subscriptions and posts go over REST and
 * WebSocket; the listener records exactly what the bridge POSTs.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger, WEBHOOK_DELIVERIES } from '../../src/observability/index.js';
import { TestWsClient } from '../fixtures/ws-client.js';

/** The receivers of these tests listen on loopback: allowed past the webhook SSRF guard. */
const LOOPBACK_WEBHOOKS = '127.0.0.0/8,::1';

const PROJECT = 'proj-hook';
const CLIENT_ID = '3381af92-2b9e-11e3-b191-71861300734c';

interface Hit {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook subscriber: records every request; answers the scripted statuses, then 200. */
class Listener {
  readonly hits: Hit[] = [];
  readonly statuses: number[] = [];
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.hits.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(this.statuses.shift() ?? 200).end();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Waits until `n` requests arrived, then `quietMs` more to catch any extra one. */
  async received(n: number, quietMs = 150, timeoutMs = 5_000): Promise<Hit[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.hits.length < n && Date.now() < deadline) await sleep(10);
    await sleep(quietMs);
    return this.hits;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let app: App;
let base: string;
let wsPort: number;
let listener: Listener;
let hook: string;

beforeEach(async () => {
  const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' }, webhooks: { allowedCidrs: LOOPBACK_WEBHOOKS } });
  app = buildApp(config, { logger: createLogger({ level: 'silent' }) });
  const ports = await app.start();
  base = `http://127.0.0.1:${ports.restPort}`;
  wsPort = ports.wsPort;
  listener = new Listener();
  hook = await listener.listen();
});

afterEach(async () => {
  await app.close();
  await listener.close();
});

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'Client-ID': CLIENT_ID, 'X-Project-ID': PROJECT, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function subscribe(queue: string, body: Record<string, unknown>): Promise<void> {
  expect((await rest('POST', `/v2/queues/${queue}/subscriptions`, { ttl: 600, ...body })).status).toBe(201);
}

async function postMessages(queue: string, messages: unknown[]): Promise<void> {
  expect((await rest('POST', `/v2/queues/${queue}/messages`, { messages })).status).toBe(201);
}

const delivered = (outcome: string): number => app.metrics.value(WEBHOOK_DELIVERIES, { outcome });

describe('webhook delivery', () => {
  it('POSTs a REST post to a REST subscription: Zaqar’s body and headers', async () => {
    await subscribe('hookq1', { subscriber: `${hook}/plain` });
    await postMessages('hookq1', [{ body: { a: 1 }, ttl: 120 }, { body: 'é', ttl: 300 }]);
    const hits = await listener.received(2);
    expect(hits.map((h) => [h.path, h.body])).toEqual([
      ['/plain', '{"ttl": 120, "body": {"a": 1}, "Message_Type": "Notification", "queue_name": "hookq1"}'],
      ['/plain', '{"ttl": 300, "body": "\\u00e9", "Message_Type": "Notification", "queue_name": "hookq1"}'],
    ]);
    expect(hits[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': '86', 'user-agent': 'zaqar-bridge' });
    expect(hits[0]?.headers).not.toHaveProperty('client-id');
    expect(delivered('delivered')).toBe(2);
    const metrics = await (await fetch(`${base}/_metrics`)).text();
    expect(metrics).toContain(`${WEBHOOK_DELIVERIES}{outcome="delivered"} 2\n`);
  });

  it('applies post_data and post_headers', async () => {
    await subscribe('hookq2', {
      subscriber: `${hook}/tmpl`,
      options: { post_data: '{"wrapped": "$zaqar_message$", "k": 1}', post_headers: { 'X-Custom': 'yes' } },
    });
    await postMessages('hookq2', [{ body: { a: 1 }, ttl: 120 }]);
    const [hit, ...more] = await listener.received(1);
    expect(more).toEqual([]);
    expect(hit?.body).toBe('{"wrapped": {"ttl": 120, "body": {"a": 1}, "Message_Type": "Notification", "queue_name": "hookq2"}, "k": 1}');
    expect(hit?.headers).toMatchObject({ 'content-type': 'application/json', 'x-custom': 'yes', 'content-length': '107' });
  });

  it('does not POST to a WebSocket’s own subscription, but does to a webhook created over WebSocket', async () => {
    const ws = await TestWsClient.connect(`ws://127.0.0.1:${wsPort}`);
    try {
      const headers = { 'Client-ID': '0d1b5a4e-2f6c-4c43-9d5e-8b7a6c5d4e3f', 'X-Project-ID': PROJECT };
      const own = await ws.request({ action: 'subscription_create', headers, body: { queue_name: 'hookq3', ttl: 600 } });
      expect(own.headers.status).toBe(201);
      const viaWs = await ws.request({ action: 'subscription_create', headers, body: { queue_name: 'hookq3', ttl: 600, subscriber: `${hook}/from-ws` } });
      expect(viaWs.headers.status).toBe(201);
      await postMessages('hookq3', [{ body: 'hi', ttl: 60 }]);
      expect(await ws.nextValue()).toEqual({ ttl: 60, body: 'hi', Message_Type: 'Notification', queue_name: 'hookq3' });
      const hits = await listener.received(1);
      expect(hits.map((h) => h.path)).toEqual(['/from-ws']);
    } finally {
      await ws.close();
    }
  });

  it('retries a subscriber answering 500 twice, then delivers (policy in seconds)', async () => {
    listener.statuses.push(500, 500);
    // 1 immediate retry, then 1 s, then the backoff phase (1, 6, 11 s) that is never reached.
    const policy = { retries_with_no_delay: 1, minimum_delay_retries: 1, minimum_delay: 1, maximum_delay: 11, maximum_delay_retries: 0 };
    await subscribe('hookq4', { subscriber: `${hook}/flaky`, options: { _retry_policy: policy } });
    const t0 = Date.now();
    await postMessages('hookq4', [{ body: { n: 1 }, ttl: 60 }]);
    const hits = await listener.received(3, 300);
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000);
    expect(delivered('delivered')).toBe(1);
    expect(delivered('failed')).toBe(0);
  });

  it('stops retrying at shutdown without holding the close up', async () => {
    listener.statuses.push(...Array<number>(10).fill(503));
    await subscribe('hookq5', { subscriber: `${hook}/down` });
    await postMessages('hookq5', [{ body: 1, ttl: 60 }]);
    await listener.received(4, 100); // the immediate retries; the next waits 5 s
    const t0 = Date.now();
    await app.close();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(delivered('dropped')).toBe(1);
    expect(listener.hits).toHaveLength(4);
  });
});
