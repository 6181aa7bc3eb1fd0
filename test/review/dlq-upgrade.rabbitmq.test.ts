/**
 * Review finding: the dead-letter queue of the ingress gained limits (x-message-ttl,
 * x-max-length). One declared by an earlier version answers the new declaration with 406, which
 * closed the declaration channel and skipped the ingress queue and both bindings: with the
 * ingress queue missing, the pod retried its setup forever and never became ready. Each
 * declaration now tolerates its own 406 and the rest still runs.
 */
import { connect } from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RabbitMqBackend, topologyNames } from '../../src/backends/rabbitmq/index.js';
import type { Diagnostic } from '../../src/backends/rabbitmq/index.js';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('dlq-upgrade');
const names = topologyNames(exchange);
let backend: RabbitMqBackend | null = null;

afterAll(async () => {
  await backend?.close();
  await deleteTopology(url, exchange, [{ kind: 'catalog' }]);
});

describe('a dead-letter queue left by an earlier version, without limits', () => {
  it('is used as it is, reported under its own name, and the ingress queue is still declared and bound', async () => {
    // What an earlier version left: the exchanges and the unbounded dead-letter queue, and no
    // ingress queue (an operator deleted it to purge it).
    const model = await connect(url);
    const ch = await model.createChannel();
    await ch.assertExchange(names.exchange, 'topic', { durable: true });
    await ch.assertExchange(names.deadLetterExchange, 'fanout', { durable: true });
    await ch.assertQueue(names.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await ch.close();

    const b = new RabbitMqBackend({ url, exchange, reconnectMinMs: 50, reconnectMaxMs: 200, ingressQueueType: 'classic' });
    backend = b;
    const seen: Diagnostic[] = [];
    b.onDiagnostic((d) => seen.push(d));
    await b.start(); // before the fix: never resolved (the test's timeout fails it)
    expect(seen).toContainEqual(expect.objectContaining({ type: 'declaration_mismatch', name: names.deadLetterQueue }));

    const check = await model.createChannel();
    expect((await check.checkQueue(names.ingressQueue)).queue).toBe(names.ingressQueue);
    // …and bound: a mandatory publish on the public exchange is routed, not returned.
    let returned = false;
    const pub = await model.createConfirmChannel();
    pub.on('return', () => {
      returned = true;
    });
    pub.publish(names.exchange, 'p.q', Buffer.from('{}'), { mandatory: true });
    await pub.waitForConfirms();
    expect(returned).toBe(false);
    await model.close();
  });
});
