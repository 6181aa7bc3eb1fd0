/**
 * The Prometheus metrics of a running app, scraped over HTTP on `/metrics` (and `/_metrics`)
 * after real REST and WebSocket traffic on the memory backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { SLOW_CLIENT_CUTOFFS } from '../../src/observability/metrics.js';

let app: App;
let base: string;
let wsPort: number;
const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'metrics', 'Content-Type': 'application/json' };

beforeAll(async () => {
  app = buildApp(parseConfig({ server: { restPort: 0, wsPort: 0 }, log: { level: 'silent' } }), { logger: createLogger({ level: 'silent' }) });
  const ports = await app.start();
  base = `http://127.0.0.1:${ports.restPort}`;
  wsPort = ports.wsPort;
});
afterAll(() => app.close());

async function rest(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function frames(ws: WebSocket): () => Promise<Record<string, unknown>> {
  const queue: Record<string, unknown>[] = [];
  const waiting: ((f: Record<string, unknown>) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const f = JSON.parse(data.toString()) as Record<string, unknown>;
    const w = waiting.shift();
    if (w === undefined) queue.push(f);
    else w(f);
  });
  return () => new Promise((resolve) => {
    const f = queue.shift();
    if (f === undefined) waiting.push(resolve);
    else resolve(f);
  });
}

describe('metrics', () => {
  it('counts REST routes by pattern, WS actions, notifications, posts per path, claims and dead-lettering', async () => {
    expect((await rest('PUT', '/v2/queues/mq', { _max_claim_count: 1, _dead_letter_queue: 'mq-dlq' })).status).toBe(201);
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}`);
    await new Promise((resolve) => ws.once('open', resolve));
    const next = frames(ws);
    ws.send(JSON.stringify({ action: 'subscription_create', headers, body: { queue_name: 'mq', ttl: 600 } }));
    expect(await next()).toMatchObject({ headers: { status: 201 } });
    ws.send(JSON.stringify({ action: 'no_such_action', headers, body: {} }));
    expect(await next()).toMatchObject({ headers: { status: 400 } });

    expect((await rest('POST', '/v2/queues/mq/messages', { messages: [{ body: 1, ttl: 300 }, { body: 2, ttl: 300 }] })).status).toBe(201);
    await next();
    await next();
    ws.send(JSON.stringify({ action: 'message_post', headers, body: { queue_name: 'mq', messages: [{ body: 3, ttl: 300 }] } }));
    const answers = [await next(), await next()];
    expect(answers.filter((f) => (f['headers'] as { status?: number } | undefined)?.status === 201)).toHaveLength(1);

    const claim = await rest('POST', '/v2/queues/mq/claims', { ttl: 60, grace: 60, limit: 10 });
    expect(claim.status).toBe(201);
    const claimId = new URL((claim.headers.get('location') ?? ''), base).pathname.split('/').pop() ?? '';
    expect((await rest('DELETE', `/v2/queues/mq/claims/${claimId}`)).status).toBe(204);
    // Claimed once already (_max_claim_count 1): the next claim moves all three to the DLQ.
    expect((await rest('POST', '/v2/queues/mq/claims', { ttl: 60, grace: 60 })).status).toBe(204);

    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'zaqar_bridge_http_requests_total{route="/v2/queues/:queue_name/messages",method="POST",status="201"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_http_requests_total{route="/v2/queues/:queue_name/claims",method="POST",status="201"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_http_request_duration_seconds_count{route="/v2/queues/:queue_name/claims",method="POST",status="201"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_ws_requests_total{action="subscription_create",status="201"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_ws_requests_total{action="invalid",status="400"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_ws_request_duration_seconds_count{action="message_post",status="201"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_ws_connections')).toBe(1);
    expect(sample(text, 'zaqar_bridge_ws_subscriptions')).toBe(1);
    expect(sample(text, 'zaqar_bridge_notifications_total{outcome="delivered"}')).toBe(3);
    expect(sample(text, 'zaqar_bridge_messages_posted_total{path="rest"}')).toBe(2);
    expect(sample(text, 'zaqar_bridge_messages_posted_total{path="ws"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_messages_posted_total{path="ingress"}')).toBe(0);
    expect(sample(text, 'zaqar_bridge_claims_total{transport="rest"}')).toBe(2);
    expect(sample(text, 'zaqar_bridge_messages_claimed_total{transport="rest"}')).toBe(3);
    expect(sample(text, 'zaqar_bridge_messages_dead_lettered_total')).toBe(3);
    expect(sample(text, 'zaqar_bridge_broker_up{backend="memory"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_queues_held')).toBeGreaterThanOrEqual(1);
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');

    // The older path serves the same registry.
    const legacy = await (await fetch(`${base}/_metrics`)).text();
    expect(legacy).toContain('# TYPE zaqar_bridge_http_requests_total counter');

    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
    await expect.poll(() => app.wsConnectionCount()).toBe(0);
    const after = await (await fetch(`${base}/metrics`)).text();
    expect(sample(after, 'zaqar_bridge_ws_subscriptions')).toBe(0);
  });

  it('counts a slow-client cut-off: a subscriber that stops reading is closed with 1008', async () => {
    const small = buildApp(parseConfig({ server: { restPort: 0, wsPort: 0 }, log: { level: 'silent' }, ws: { maxBufferedBytes: 65_536 } }), {
      logger: createLogger({ level: 'silent' }),
      defaultMetrics: false,
    });
    const ports = await small.start();
    try {
      const slow = new WebSocket(`ws://127.0.0.1:${ports.wsPort}`);
      await new Promise((resolve) => slow.once('open', resolve));
      const next = frames(slow);
      slow.send(JSON.stringify({ action: 'subscription_create', headers, body: { queue_name: 'firehose', ttl: 600 } }));
      expect(await next()).toMatchObject({ headers: { status: 201 } });
      const closed = new Promise<number>((resolve) => slow.once('close', (code) => resolve(code)));
      slow.pause(); // stops reading: the kernel buffers fill, then the server's send buffer
      const body = 'x'.repeat(200_000);
      let cutOff = false;
      for (let i = 0; i < 300 && !cutOff; i++) {
        const res = await fetch(`http://127.0.0.1:${ports.restPort}/v2/queues/firehose/messages`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ messages: [{ body, ttl: 300 }] }),
        });
        expect(res.status).toBe(201);
        cutOff = small.metrics.value(SLOW_CLIENT_CUTOFFS, {}) > 0;
      }
      expect(cutOff).toBe(true);
      const text = await (await fetch(`http://127.0.0.1:${ports.restPort}/metrics`)).text();
      expect(sample(text, 'zaqar_bridge_ws_slow_client_cutoffs_total')).toBe(1);
      slow.resume();
      expect(await closed).toBe(1008);
    } finally {
      await small.close();
    }
  });
});
