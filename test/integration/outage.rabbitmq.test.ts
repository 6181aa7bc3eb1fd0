/**
 * RabbitMQ stops and restarts in the middle of a stream of REST posts to a running bridge
 * process (issue 3, requirement 4): every acknowledged message is listable afterwards; posts
 * during the outage get a clear 503 — never a hang, never a crash; the bridge reconnects by
 * itself; its WebSocket subscriber continues without gap or duplicate.
 *
 * The broker that stops is a private node of this test's own (test/fixtures/private-rabbitmq.ts);
 * the shared broker of `RABBITMQ_URL` is only watched, to prove it was not disturbed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPods, type Pod, type PodFactory } from '../fixtures/pods.js';
import { startPrivateRabbitMq, watchSharedBroker, type PrivateRabbitMq } from '../fixtures/private-rabbitmq.js';
import { uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { TestWsClient } from '../fixtures/ws-client.js';

const exchange = uniqueExchange('outage');
const project = `outage-${randomUUID().slice(0, 8)}`;
const queue = 'jobs';
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': project };
/** A request that takes longer than this is a hang, whatever the broker is doing. */
const HANG_MS = 15_000;

let factory: PodFactory;
let pod: Pod;
let broker: PrivateRabbitMq;
let shared: Awaited<ReturnType<typeof watchSharedBroker>>;

async function post(i: number): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${pod.restPort}/v2/queues/${queue}/messages`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ body: i }] }),
    signal: AbortSignal.timeout(HANG_MS),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function listAll(): Promise<number[]> {
  const out: number[] = [];
  let path = `/v2/queues/${queue}/messages?echo=true&limit=20`;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${pod.restPort}${path}`, { headers });
    const page = (await res.json()) as { messages: { body: number }[]; links: { href: string }[] };
    if (page.messages.length === 0) return out;
    out.push(...page.messages.map((m) => m.body));
    path = page.links[0]?.href ?? '';
  }
}

beforeAll(async () => {
  shared = await watchSharedBroker(inject('amqpUrl'));
  const starting = startPrivateRabbitMq('outage').then((b) => (broker = b));
  factory = await buildPods();
  await starting;
  pod = await factory.start({ RABBITMQ_URL: broker.url, RABBITMQ_EXCHANGE: exchange, LOG_LEVEL: 'info' });
}, 120_000);

afterAll(async () => {
  await factory?.dispose();
  await broker?.close();
  await shared?.close();
}, 60_000);

describe('a RabbitMQ outage under a running bridge', { timeout: 180_000 }, () => {
  it('loses nothing acknowledged, answers 503 while down, reconnects, and keeps subscribers gapless', async () => {
    const sub = await TestWsClient.connect(`ws://127.0.0.1:${pod.wsPort}/`);
    expect((await sub.request({ action: 'subscription_create', headers, body: { queue_name: queue, ttl: 3600 } })).headers.status).toBe(201);

    const acked: number[] = [];
    const statuses = new Map<number, number>();
    let i = 0;
    const state: { phase: 'before' | 'down' | 'after' } = { phase: 'before' };
    const producer = (async () => {
      let okAfter = 0;
      while (okAfter < 20) {
        const r = await post(i);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 201) {
          acked.push(i);
          if (state.phase === 'after') okAfter++;
        } else {
          expect(r.status).toBe(503);
          expect(r.body).toMatchObject({ title: 'Service temporarily unavailable' });
          await new Promise((res) => setTimeout(res, 50));
        }
        i++;
      }
    })();
    while (acked.length < 20) await new Promise((r) => setTimeout(r, 10));
    state.phase = 'down';
    await broker.stopApp();
    await new Promise((r) => setTimeout(r, 1500));
    await broker.startApp();
    state.phase = 'after';
    await producer;

    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(pod.child.exitCode).toBeNull();
    const listed = await listAll();
    for (const n of acked) expect(listed).toContain(n);
    // The subscriber sees exactly the log: what the queue lists, in that order, once each.
    const received: number[] = [];
    while (received.length < listed.length) received.push(((await sub.nextValue(10_000)) as { body: number }).body);
    expect(received).toEqual(listed);
    expect(await sub.silentFor(300)).toBe(true);
    await sub.close();
    expect(await shared.undisturbed()).toBe(true);
  });
});
