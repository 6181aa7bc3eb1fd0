/**
 * The broker metrics on the real RabbitMQ: connection state, publish-confirm latency, and
 * messages published straight to the exchange counted on the ingress path.
 */
import { connect } from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { RabbitMqBackend } from '../../src/backends/rabbitmq/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger, MESSAGES_POSTED } from '../../src/observability/index.js';
import { deleteTopology, uniqueExchange, until } from '../fixtures/rabbitmq-helpers.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('metrics');
let app: App | undefined;

afterAll(async () => {
  await app?.close();
  await deleteTopology(url, exchange, []);
}, 30_000);

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('broker metrics', { timeout: 30_000 }, () => {
  it('reports the broker up, times publish confirms, and counts ingress posts', async () => {
    const backend = new RabbitMqBackend({ url, exchange, ingressQueueType: 'classic' });
    app = buildApp(parseConfig({ server: { restPort: 0, wsPort: 0 }, log: { level: 'silent' } }), { logger: createLogger({ level: 'silent' }), backend, defaultMetrics: false });
    const base = `http://127.0.0.1:${(await app.start()).restPort}`;
    const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'proj', 'Content-Type': 'application/json' };
    const posted = await fetch(`${base}/v2/queues/mq/messages`, { method: 'POST', headers, body: JSON.stringify({ messages: [{ body: 1 }] }) });
    expect(posted.status).toBe(201);

    const conn = await connect(url);
    const ch = await conn.createConfirmChannel();
    ch.publish(exchange, 'proj.mq', Buffer.from(JSON.stringify({ hello: 'world' })), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    const running = app;
    await until(() => running.metrics.value(MESSAGES_POSTED, { path: 'ingress' }) === 1);

    const text = await (await fetch(`${base}/metrics`)).text();
    expect(sample(text, `zaqar_bridge_broker_up{backend="${backend.name}"}`)).toBe(1);
    expect(sample(text, 'zaqar_bridge_broker_publish_confirm_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'zaqar_bridge_messages_posted_total{path="rest"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_messages_posted_total{path="ingress"}')).toBe(1);
    expect(sample(text, 'zaqar_bridge_broker_reconnects_total')).toBe(0);
  });
});
