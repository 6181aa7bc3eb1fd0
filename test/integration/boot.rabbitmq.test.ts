/**
 * Booting while RabbitMQ is unreachable (style guide: "broker down at startup"): the bridge
 * listens at once — liveness 200, readiness 503, API requests a clear 503 on REST and
 * WebSocket, never a hang — and becomes ready by itself once the broker answers.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { startAmqpProxy, type AmqpProxy } from '../fixtures/rabbitmq-proxy.js';
import { TestWsClient } from '../fixtures/ws-client.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('boot');
const project = `boot-${randomUUID().slice(0, 8)}`;
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': project };
let proxy: AmqpProxy | undefined;
let app: App | undefined;

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await proxy?.close();
  await deleteTopology(url, exchange, [{ kind: 'catalog' }, { kind: 'queue', project, queue: 'q' }]);
}, 60_000);

async function whenListening(a: App): Promise<{ rest: string; ws: string }> {
  const ports = await a.listening();
  return { rest: `http://127.0.0.1:${ports.restPort}`, ws: `ws://127.0.0.1:${ports.wsPort}/` };
}

describe('booting while the broker is unreachable', { timeout: 60_000 }, () => {
  it('listens, answers 503, and becomes ready once the broker is back', async () => {
    proxy = await startAmqpProxy(url);
    proxy.refuse(true);
    const config = parseConfig({
      server: { host: '127.0.0.1', restPort: 0, wsPort: 0 },
      log: { level: 'silent' },
      backend: { type: 'rabbitmq', url: proxy.url, exchange },
    });
    app = buildApp(config, { logger: createLogger({ level: 'silent' }) });
    const started = app.start();
    const { rest, ws } = await whenListening(app);

    expect((await fetch(`${rest}/_health/live`)).status).toBe(200);
    expect((await fetch(`${rest}/_health/ready`)).status).toBe(503);
    const post = await fetch(`${rest}/v2/queues/q/messages`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ body: 1 }] }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(post.status).toBe(503);
    expect(await post.json()).toEqual({
      title: 'Service temporarily unavailable',
      description: 'The service is starting. Please try again in a few seconds.',
    });
    const client = await TestWsClient.connect(ws);
    const frame = await client.request({ action: 'queue_list', headers, body: {} });
    expect(frame.headers.status).toBe(503);

    proxy.refuse(false);
    await started;
    expect((await fetch(`${rest}/_health/ready`)).status).toBe(200);
    const ok = await fetch(`${rest}/v2/queues/q/messages`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ body: 1 }] }),
    });
    expect(ok.status).toBe(201);
    expect((await client.request({ action: 'queue_list', headers, body: {} })).headers.status).toBe(200);
    await client.close();
  });
});
