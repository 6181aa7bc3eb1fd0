/**
 * A deleted queue leaves nothing on the broker (issue 11 §3): two pods, queues created on one,
 * posted to and subscribed to on the other, then deleted — the broker's queue list (read with
 * `rabbitmqctl list_queues`) is back to what it was, even though the other pod was still
 * tailing the streams and holding subscribers. Counts, not times.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { topologyNames } from '../../src/backends/rabbitmq/topology.js';
import type { LogRef } from '../../src/core/ports.js';
import { buildPods, type Pod, type PodFactory } from '../fixtures/pods.js';
import { deleteTopology, rabbitmqctl, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { TestWsClient } from '../fixtures/ws-client.js';

const url = inject('amqpUrl');
const ctl = inject('rabbitmqCtl');
const exchange = uniqueExchange('qdelete');
const project = `qdel-${randomUUID().slice(0, 8)}`;
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': project };
const env = { RABBITMQ_URL: url, RABBITMQ_EXCHANGE: exchange };
const QUEUES = 30;
const SUBSCRIBED = 10;
const names = Array.from({ length: QUEUES }, () => randomUUID());
const logs: LogRef[] = [{ kind: 'catalog' }, ...names.map((queue): LogRef => ({ kind: 'queue', project, queue }))];
let factory: PodFactory;
let a: Pod;
let b: Pod;

async function rest(pod: Pod, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${pod.restPort}${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The broker's queue streams of this test's exchange. */
function queueStreams(): string[] {
  const prefix = topologyNames(exchange).queueStreamPrefix;
  return rabbitmqctl(ctl, 'list_queues', '-q', '--no-table-headers', 'name')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix));
}

beforeAll(async () => {
  factory = await buildPods();
  a = await factory.start(env);
  b = await factory.start(env);
}, 120_000);

afterAll(async () => {
  await factory.dispose();
  await deleteTopology(url, exchange, logs);
}, 60_000);

describe('deleting queues on RabbitMQ', { timeout: 90_000 }, () => {
  it('removes every deleted queue’s stream, while another pod tails them and holds subscribers', async () => {
    expect(queueStreams()).toEqual([]);
    for (const q of names) expect(await rest(a, 'PUT', `/v2/queues/${q}`, {})).toBe(201);
    const subscribers: TestWsClient[] = [];
    for (const q of names.slice(0, SUBSCRIBED)) {
      const ws = await TestWsClient.connect(`ws://127.0.0.1:${b.wsPort}/`);
      const r = await ws.request({ action: 'subscription_create', headers, body: { queue_name: q, ttl: 3600 } });
      expect(r.headers.status).toBe(201);
      subscribers.push(ws);
    }
    for (const q of names) {
      expect(await rest(b, 'POST', `/v2/queues/${q}/messages`, { messages: [{ body: { type: 'tripleo.test', payload: { q } } }] })).toBe(201);
    }
    for (const ws of subscribers) expect(await ws.nextValue(10_000)).toMatchObject({ body: { type: 'tripleo.test' } });
    expect(queueStreams()).toHaveLength(QUEUES);

    for (const q of names) expect(await rest(a, 'DELETE', `/v2/queues/${q}`)).toBe(204);
    expect(queueStreams()).toEqual([]);
    // Pod B has folded every deletion (its queue list is empty) and brought no stream back.
    const listed = await fetch(`http://127.0.0.1:${b.restPort}/v2/queues`, { headers });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { queues: unknown[] }).queues).toEqual([]);
    expect(queueStreams()).toEqual([]);

    // The subscriptions outlive their queue (as in Zaqar): posting creates the queue again and
    // pod B's subscriber gets the message; deleting it removes the new stream too.
    const again = names[0] ?? '';
    expect(await rest(a, 'POST', `/v2/queues/${again}/messages`, { messages: [{ body: { type: 'tripleo.again' } }] })).toBe(201);
    expect(await subscribers[0]?.nextValue(10_000)).toMatchObject({ body: { type: 'tripleo.again' } });
    expect(queueStreams()).toHaveLength(1);
    expect(await rest(a, 'DELETE', `/v2/queues/${again}`)).toBe(204);
    expect(queueStreams()).toEqual([]);
    await Promise.all(subscribers.map((ws) => ws.close()));
  });
});
