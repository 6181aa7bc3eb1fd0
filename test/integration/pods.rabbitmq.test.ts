/**
 * Several bridge processes ("pods") on one RabbitMQ behave as one service (issue 3):
 * fan-out across pods over REST, WebSocket and the exchange; claims exclusive across pods;
 * a killed pod's messages and claims served by the other; the catalogue surviving restarts
 * of every pod; one AMQP connection per pod; stream retention set.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { streamNameOf, topologyNames } from '../../src/backends/rabbitmq/topology.js';
import type { LogRef } from '../../src/core/ports.js';
import { buildPods, type Pod, type PodFactory } from '../fixtures/pods.js';
import { startAmqpProxy } from '../fixtures/rabbitmq-proxy.js';
import { deleteTopology, queueArguments, rabbitmqctl, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { TestWsClient } from '../fixtures/ws-client.js';

const url = inject('amqpUrl');
const ctl = inject('rabbitmqCtl');
const exchange = uniqueExchange('pods');
const project = `pods-${randomUUID().slice(0, 8)}`;
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': project };
// The subscriber below is on loopback, which the webhook SSRF guard refuses unless allowed.
const env = { RABBITMQ_URL: url, RABBITMQ_EXCHANGE: exchange, LOG_LEVEL: 'info', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' };
const logs: LogRef[] = [{ kind: 'catalog' }];
let factory: PodFactory;
let a: Pod;
let b: Pod;

async function rest(pod: Pod, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${pod.restPort}${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

/** Polls an async condition every 50 ms. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function queue(name: string): string {
  logs.push({ kind: 'queue', project, queue: name });
  return name;
}

async function listAll(pod: Pod, q: string): Promise<unknown[]> {
  const r = await rest(pod, 'GET', `/v2/queues/${q}/messages?echo=true&include_claimed=true&limit=20`);
  return (r.body as { messages: { body: unknown }[] }).messages.map((m) => m.body);
}

async function total(pod: Pod, q: string): Promise<number> {
  return ((await rest(pod, 'GET', `/v2/queues/${q}/stats`)).body as { messages: { total: number } }).messages.total;
}

function amqpConnectionCount(): number {
  return rabbitmqctl(ctl, 'list_connections', '-q', '--no-table-headers', 'pid')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
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

describe('pods on one RabbitMQ', { timeout: 90_000 }, () => {
  it('fans out to a subscriber on pod B, in order, messages posted on pod A over REST, WebSocket and the exchange', async () => {
    const q = queue('fan');
    const sub = await TestWsClient.connect(`ws://127.0.0.1:${b.wsPort}/`);
    const created = await sub.request({ action: 'subscription_create', headers, body: { queue_name: q, ttl: 3600 } });
    expect(created.headers.status).toBe(201);
    const producer = await TestWsClient.connect(`ws://127.0.0.1:${a.wsPort}/`);
    const amqp = await connect(url);
    const ch = await amqp.createConfirmChannel();
    const expected: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      const way = i % 3;
      const body = { type: 'tripleo.test.v1.fan', payload: { i, way } };
      expected.push(body);
      if (way === 0) {
        expect((await rest(a, 'POST', `/v2/queues/${q}/messages`, { messages: [{ body }] })).status).toBe(201);
      } else if (way === 1) {
        const r = await producer.request({ action: 'message_post', headers, body: { queue_name: q, messages: [{ body }] } });
        expect(r.headers.status).toBe(201);
      } else {
        ch.publish(exchange, `${project}.${q}`, Buffer.from(JSON.stringify(body)), { persistent: true, messageId: randomUUID() });
        await ch.waitForConfirms();
        // Published straight to the exchange: stored asynchronously by whichever pod takes it.
        await eventually(async () => (await total(a, q)) === expected.length, 10_000, 'exchange message stored');
      }
    }
    const received: unknown[] = [];
    while (received.length < expected.length) received.push(((await sub.nextValue(10_000)) as { body: unknown }).body);
    expect(received).toEqual(expected);
    await Promise.all([sub.close(), producer.close(), amqp.close()]);
  });

  it('hands each of 1,000 messages to exactly one claim among workers on two pods', async () => {
    const q = queue('work');
    for (let i = 0; i < 50; i++) {
      const messages = Array.from({ length: 20 }, (_, j) => ({ body: i * 20 + j }));
      expect((await rest(a, 'POST', `/v2/queues/${q}/messages`, { messages })).status).toBe(201);
    }
    const claimed: number[] = [];
    const worker = async (pod: Pod): Promise<void> => {
      for (;;) {
        const r = await rest(pod, 'POST', `/v2/queues/${q}/claims?limit=10`, { ttl: 300, grace: 60 });
        if (r.status === 204) return;
        expect(r.status).toBe(201);
        for (const m of (r.body as { messages: { body: number }[] }).messages) claimed.push(m.body);
      }
    };
    await Promise.all([worker(a), worker(b), worker(a), worker(b)]);
    expect(claimed).toHaveLength(1000);
    expect(new Set(claimed).size).toBe(1000);
  });

  it('answers a client whose requests alternate between the pods as one service (no 404 for what was just written)', async () => {
    // Pod `late` hears from the broker 30 ms after pod `a`: its fold is always behind a's.
    const proxy = await startAmqpProxy(url, { downstreamDelayMs: 30 });
    const late = await factory.start({ ...env, RABBITMQ_URL: proxy.url });
    try {
      await alternate(late);
    } finally {
      await late.stop('SIGTERM');
      await proxy.close();
    }
  });

  async function alternate(late: Pod): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const [writer, reader] = i % 2 === 0 ? [a, late] : [late, a];
      const q = queue(`zz-lb-${i}`); // sorts after the queues other tests list
      expect((await rest(writer, 'PUT', `/v2/queues/${q}`, { _default_message_ttl: 120 + i })).status).toBe(201);
      expect((await rest(reader, 'GET', `/v2/queues/${q}`)).body).toMatchObject({ _default_message_ttl: 120 + i });
      const posted = await rest(reader, 'POST', `/v2/queues/${q}/messages`, { messages: [{ body: { i } }] });
      expect(posted.status).toBe(201);
      const href = (posted.body as { resources: string[] }).resources[0] ?? '';
      const got = await rest(writer, 'GET', href);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ body: { i }, ttl: 120 + i });
      // A delete is a write, decided in log order wherever it lands.
      expect((await rest(reader, 'DELETE', href)).status).toBe(204);
    }
  }

  it('makes released claims claimable again on the other pod', async () => {
    const q = queue('release');
    await rest(a, 'POST', `/v2/queues/${q}/messages`, { messages: [{ body: 'x' }] });
    const c = await rest(a, 'POST', `/v2/queues/${q}/claims`, {});
    expect(c.status).toBe(201);
    expect((await rest(b, 'POST', `/v2/queues/${q}/claims`, {})).status).toBe(204);
    const href = (c.body as { messages: { href: string }[] }).messages[0]?.href ?? '';
    const claimId = href.slice(href.lastIndexOf('=') + 1);
    expect((await rest(a, 'DELETE', `/v2/queues/${q}/claims/${claimId}`)).status).toBe(204);
    await eventually(async () => (await rest(b, 'POST', `/v2/queues/${q}/claims`, {})).status === 201, 5_000, 'claimable on B');
  });

  it('serves a killed pod\'s messages and claims from the other pod, and a new pod finds the catalogue', async () => {
    const q = queue('survivor');
    expect((await rest(a, 'PUT', `/v2/queues/${q}`, { owner: 'ops', _default_message_ttl: 600 })).status).toBe(201);
    const sub = await rest(a, 'POST', `/v2/queues/${q}/subscriptions`, { subscriber: 'http://127.0.0.1:9/hook', ttl: 3600 });
    expect(sub.status).toBe(201);
    await rest(a, 'POST', `/v2/queues/${q}/messages`, { messages: [{ body: 1 }, { body: 2 }, { body: 3 }] });
    const claim = await rest(a, 'POST', `/v2/queues/${q}/claims?limit=1`, {});
    const claimHref = (claim.body as { messages: { href: string }[] }).messages[0]?.href ?? '';
    await a.stop('SIGKILL');

    expect(await listAll(b, q)).toEqual([1, 2, 3]);
    const cid = claimHref.slice(claimHref.lastIndexOf('=') + 1);
    const got = await rest(b, 'GET', `/v2/queues/${q}/claims/${cid}`);
    expect(got.status).toBe(200);
    expect((await rest(b, 'DELETE', claimHref)).status).toBe(204);

    a = await factory.start(env);
    expect(await rest(a, 'GET', `/v2/queues/${q}`)).toMatchObject({ status: 200, body: { owner: 'ops', _default_message_ttl: 600 } });
    const subs = await rest(a, 'GET', `/v2/queues/${q}/subscriptions`);
    expect((subs.body as { subscriptions: { id: string }[] }).subscriptions.map((s) => s.id)).toEqual([
      (sub.body as { subscription_id: string }).subscription_id,
    ]);
    expect(await listAll(a, q)).toEqual([2, 3]);
  });

  it('keeps the catalogue and messages across a restart of every pod', async () => {
    const q = queue('restart-all');
    await rest(b, 'PUT', `/v2/queues/${q}`, { kept: true });
    await rest(b, 'POST', `/v2/queues/${q}/messages`, { messages: [{ body: 'durable' }] });
    await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
    a = await factory.start(env);
    b = await factory.start(env);
    const names = ((await rest(b, 'GET', '/v2/queues?limit=20')).body as { queues: { name: string }[] }).queues.map((x) => x.name);
    expect(names).toContain(q);
    expect((await rest(a, 'GET', `/v2/queues/${q}`)).body).toMatchObject({ kept: true });
    expect(await listAll(a, q)).toEqual(['durable']);
  });

  it('uses one AMQP connection per pod, whatever the number of clients and queues', async () => {
    const before = amqpConnectionCount();
    const c = await factory.start(env);
    const clients: TestWsClient[] = [];
    for (let i = 0; i < 40; i++) {
      const ws = await TestWsClient.connect(`ws://127.0.0.1:${c.wsPort}/`);
      const r = await ws.request({ action: 'subscription_create', headers, body: { queue_name: queue(`conn${i % 8}`), ttl: 3600 } });
      expect(r.headers.status).toBe(201);
      clients.push(ws);
    }
    await rest(c, 'POST', `/v2/queues/conn0/messages`, { messages: [{ body: 'x' }] });
    expect(amqpConnectionCount() - before).toBeLessThanOrEqual(2);
    await Promise.all(clients.map((ws) => ws.close()));
    await c.stop();
  });

  it('declares queue streams with retention (x-max-age) and small segments', async () => {
    const q = queue('retention');
    await rest(a, 'POST', `/v2/queues/${q}/messages`, { messages: [{ body: 1 }] });
    const stream = streamNameOf(topologyNames(exchange), { kind: 'queue', project, queue: q });
    const line = queueArguments(ctl, stream);
    expect(line).toContain('x-queue-type');
    expect(line).toMatch(/x-max-age/);
    expect(line).toMatch(/x-stream-max-segment-size-bytes/);
    // The catalogue keeps 7 days by default (its snapshots: catalog-retention.rabbitmq.test.ts).
    expect(queueArguments(ctl, topologyNames(exchange).catalogStream)).toMatch(/x-max-age[^}]*604800s/);
  });
});
