/**
 * Issue 12's defects on the RabbitMQ backend (the suite: poison.suite.ts): odd records are
 * published straight into a queue's stream, as a bug, an older version or a third party could;
 * and a body too deep published to the public exchange is dead-lettered by the ingress and
 * counted, never stored (not even in the queue's Zaqar dead-letter queue).
 */
import { connect } from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { streamNameOf, topologyNames } from '../../src/backends/rabbitmq/topology.js';
import { parseConfig } from '../../src/config/index.js';
import type { LogRef } from '../../src/core/ports.js';
import { createLogger } from '../../src/observability/index.js';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { deepArrayText, metric, poisonSuite, PROJECT, rest, type PoisonTarget } from './poison.suite.js';

const url = inject('amqpUrl');
const exchanges = new Map<string, Set<string>>();

afterAll(async () => {
  for (const [exchange, queues] of exchanges) {
    const logs: LogRef[] = [{ kind: 'catalog' }, ...[...queues].map((queue) => ({ kind: 'queue' as const, project: PROJECT, queue }))];
    await deleteTopology(url, exchange, logs);
  }
}, 60_000);

const QUEUES = ['deep', 'deepws', 'odd', 'busy', 'quiet', 'ingressq', 'ingressq-dlq'];

async function startTarget(tag: string): Promise<PoisonTarget & { exchange: string }> {
  const exchange = uniqueExchange(tag);
  exchanges.set(exchange, new Set(QUEUES));
  const config = parseConfig({
    server: { host: '127.0.0.1', restPort: 0, wsPort: 0 },
    log: { level: 'silent' },
    backend: { type: 'rabbitmq', url, exchange },
  });
  const app = buildApp(config, { logger: createLogger({ level: 'silent' }) });
  const { restPort, wsPort } = await app.start();
  const amqp = await connect(url);
  const channel = await amqp.createConfirmChannel();
  const names = topologyNames(exchange);
  return {
    exchange,
    app,
    restPort,
    wsPort,
    async appendRaw(queue, record) {
      // Straight into the queue's stream (the default exchange routes by queue name).
      channel.sendToQueue(streamNameOf(names, { kind: 'queue', project: PROJECT, queue }), Buffer.from(record), { persistent: true });
      await channel.waitForConfirms();
    },
    async close() {
      await amqp.close();
      await app.close();
    },
  };
}

poisonSuite({ name: 'rabbitmq', start: () => startTarget('poison') });

describe('a body too deep published to the exchange (rabbitmq)', { timeout: 60_000 }, () => {
  it('is dead-lettered by the ingress and counted, stored nowhere, and the ingress goes on', async () => {
    const t = await startTarget('poison-ingress');
    const names = topologyNames(t.exchange);
    const amqp = await connect(url);
    try {
      const r = rest(t.restPort);
      // The queue has a Zaqar dead-letter queue: the deep body must not land there either.
      expect((await r('PUT', '/v2/queues/ingressq', '{"_dead_letter_queue": "ingressq-dlq"}')).status).toBe(201);
      const ch = await amqp.createConfirmChannel();
      const before = await metric(t.restPort, 'zaqar_bridge_foreign_messages_rejected_total', 'outcome="dropped"');
      ch.publish(t.exchange, `${PROJECT}.ingressq`, Buffer.from(`{"body": ${deepArrayText(5_000)}, "ttl": 300}`), { persistent: true });
      ch.publish(t.exchange, `${PROJECT}.ingressq`, Buffer.from('{"body": {"type": "fine"}, "ttl": 300}'), { persistent: true });
      await ch.waitForConfirms();

      let listed: { body: unknown }[] = [];
      async function poll(): Promise<void> {
        const l = await r('GET', '/v2/queues/ingressq/messages?echo=true');
        listed = l.status === 200 ? (l.body as { messages: { body: unknown }[] }).messages : [];
      }
      for (let i = 0; i < 150 && listed.length === 0; i++) {
        await poll();
        if (listed.length === 0) await new Promise((res) => setTimeout(res, 100));
      }
      expect(listed.map((m) => m.body)).toEqual([{ type: 'fine' }]);
      expect(await metric(t.restPort, 'zaqar_bridge_foreign_messages_rejected_total', 'outcome="dropped"')).toBe(before + 1);
      const dlq = await r('GET', '/v2/queues/ingressq-dlq/messages?echo=true');
      expect(dlq.status === 404 || (dlq.body as { messages: unknown[] }).messages.length === 0).toBe(true);
      const dead = await ch.checkQueue(names.deadLetterQueue);
      expect(dead.messageCount).toBe(1);
    } finally {
      await amqp.close();
      await t.close();
    }
  });
});
