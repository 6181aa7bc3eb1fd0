/**
 * The webhook SSRF guard end to end (issue 8): without WEBHOOK_ALLOWED_CIDRS, subscriptions to
 * loopback (by address or by a name that resolves there) are refused with 400 over REST and
 * WebSocket, at creation and on update, and nothing is POSTed to the receiver.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { TestWsClient } from '../fixtures/ws-client.js';

const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'p-ssrf' };
let app: App;
let base = '';
let wsUrl = '';
let receiver: Server;
let hookUrl = '';
let hits = 0;

beforeAll(async () => {
  receiver = createServer((_req, res) => {
    hits++;
    res.end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  app = buildApp(parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' } }), { logger: createLogger({ level: 'silent' }) });
  const ports = await app.start();
  base = `http://127.0.0.1:${ports.restPort}`;
  wsUrl = `ws://127.0.0.1:${ports.wsPort}/`;
});

afterAll(async () => {
  await app.close();
  await new Promise((r) => receiver.close(r));
});

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(base + path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

describe('webhook subscribers on internal addresses', () => {
  it('are refused with 400 over REST, by address and by name, at creation and on update', async () => {
    for (const subscriber of [hookUrl, 'http://localhost:9/hook', 'http://[::1]:9/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]:9/']) {
      const r = await rest('POST', '/v2/queues/ssrf/subscriptions', { subscriber, ttl: 3600 });
      expect(r.status, subscriber).toBe(400);
      expect(r.json).toMatchObject({ title: 'Invalid API request', description: expect.stringContaining('loopback, link-local or private') });
    }
    // A public address is accepted (never delivered here: TEST-NET-1); moving it inward is not.
    const ok = await rest('POST', '/v2/queues/ssrf/subscriptions', { subscriber: 'http://192.0.2.1/hook', ttl: 3600 });
    expect(ok.status).toBe(201);
    const id = (ok.json as { subscription_id: string }).subscription_id;
    const moved = await rest('PATCH', `/v2/queues/ssrf/subscriptions/${id}`, { subscriber: hookUrl });
    expect(moved.status).toBe(400);
    await rest('DELETE', `/v2/queues/ssrf/subscriptions/${id}`);
    expect((await rest('POST', '/v2/queues/ssrf/messages', { messages: [{ body: 'x', ttl: 60 }] })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 200));
    expect(hits).toBe(0);
  });

  it('are refused with 400 over WebSocket; the socket\'s own subscription is unaffected', async () => {
    const c = await TestWsClient.connect(wsUrl);
    const refused = (await c.request({ action: 'subscription_create', headers, body: { queue_name: 'ssrf', subscriber: hookUrl, ttl: 3600 } })) as { headers: { status: number } };
    expect(refused.headers.status).toBe(400);
    const own = (await c.request({ action: 'subscription_create', headers, body: { queue_name: 'ssrf', ttl: 3600 } })) as { headers: { status: number } };
    expect(own.headers.status).toBe(201);
    await c.close();
  });
});
