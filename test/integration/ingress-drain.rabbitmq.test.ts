/**
 * Graceful shutdown of the ingress (review finding): a foreign message being stored when the
 * pod shuts down is acknowledged before the channel closes, so it is not delivered again to
 * another pod (a duplicate on every rolling restart).
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RabbitMqBackend, type ForeignDelivery } from '../../src/backends/rabbitmq/index.js';
import { topologyNames } from '../../src/backends/rabbitmq/topology.js';
import { deleteTopology, uniqueExchange, until } from '../fixtures/rabbitmq-helpers.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('drain');
const backends: RabbitMqBackend[] = [];

afterAll(async () => {
  for (const b of backends) await b.close();
  await deleteTopology(url, exchange, []);
}, 30_000);

function pod(): RabbitMqBackend {
  const b = new RabbitMqBackend({ url, exchange, ingressQueueType: 'classic' });
  backends.push(b);
  return b;
}

describe('draining the ingress at shutdown', { timeout: 30_000 }, () => {
  it('settles the delivery being handled before closing, so no other pod gets it again', async () => {
    const first = pod();
    await first.start();
    const handled: string[] = [];
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => {
      release = r;
    });
    first.onForeignMessage(async (d: ForeignDelivery) => {
      handled.push(`first:${d.raw.toString()}`);
      await slow; // still "storing" when the shutdown begins
      d.ack();
    });

    const amqp = await connect(url);
    const ch = await amqp.createConfirmChannel();
    const body = randomUUID();
    ch.publish(exchange, 'proj.q', Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
    await until(() => handled.length === 1, 10_000, 'the first pod to take the message');

    const draining = first.drainIngress(5_000);
    setTimeout(release, 200);
    await draining;
    await first.close();

    const second = pod();
    await second.start();
    second.onForeignMessage((d) => {
      handled.push(`second:${d.raw.toString()}`);
      d.ack();
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(handled).toEqual([`first:${body}`]);
    const { messageCount } = await ch.checkQueue(topologyNames(exchange).ingressQueue);
    expect(messageCount).toBe(0);
    await amqp.close();
  });
});
