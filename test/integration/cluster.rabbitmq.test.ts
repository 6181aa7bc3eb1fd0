/**
 * Outgrowing one broker (issue 11 §5): a 3-node RabbitMQ cluster of the test's own on loopback
 * (test/fixtures/private-rabbitmq.ts), streams replicated on all three
 * (`RABBITMQ_STREAM_CLUSTER_SIZE=3`), two bridge pods each given the three nodes
 * (`RABBITMQ_URL` as a list, starting at different nodes). While both pods take posts and two
 * subscribers listen — the SDK on one pod, a raw reattach subscriber on the other — the node
 * that leads the queue's stream stops: no acknowledged message is lost, nothing is delivered
 * twice, posts answer 201 again (the time is printed, not asserted), and the node rejoins.
 * The shared broker of `RABBITMQ_URL` is only watched.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from '../../clients/js/src/index.js';
import { buildApp, type App } from '../../src/app.js';
import { streamNameOf, topologyNames } from '../../src/backends/rabbitmq/topology.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { startPrivateCluster, watchSharedBroker, type PrivateCluster } from '../fixtures/private-rabbitmq.js';
import { until, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { TestWsClient } from '../fixtures/ws-client.js';

const exchange = uniqueExchange('cluster');
const project = `cluster-${randomUUID().slice(0, 8)}`;
const queue = 'jobs';
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': project };

let cluster: PrivateCluster;
let shared: Awaited<ReturnType<typeof watchSharedBroker>>;
const pods: { app: App; restPort: number; wsPort: number }[] = [];
let sdk: Client | undefined;

beforeAll(async () => {
  shared = await watchSharedBroker(inject('amqpUrl'));
  cluster = await startPrivateCluster('cl', 3);
  for (let i = 0; i < 2; i++) {
    const config = parseConfig({
      server: { host: '127.0.0.1', restPort: 0, wsPort: 0 },
      log: { level: 'silent' },
      backend: { type: 'rabbitmq', url: cluster.urls(i), exchange, streamClusterSize: 3 },
    });
    const app = buildApp(config, { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
    pods.push({ app, ...(await app.start()) });
  }
}, 240_000);

afterAll(async () => {
  await sdk?.close();
  for (const p of pods) await p.app.close();
  await cluster?.close();
  await shared?.close();
}, 120_000);

async function post(pod: { restPort: number }, n: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${pod.restPort}/v2/queues/${queue}/messages`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ body: { n }, ttl: 3600 }] }),
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function listAll(pod: { restPort: number }): Promise<number[]> {
  const out: number[] = [];
  let path = `/v2/queues/${queue}/messages?echo=true&limit=20`;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${pod.restPort}${path}`, { headers });
    const page = (await res.json()) as { messages: { body: { n: number } }[]; links: { href: string }[] };
    if (page.messages.length === 0) return out;
    out.push(...page.messages.map((m) => m.body.n));
    path = page.links[0]?.href ?? '';
  }
}

describe('a 3-node RabbitMQ cluster under two pods', { timeout: 300_000 }, () => {
  it('loses nothing acknowledged and repeats nothing when the stream leader stops, then the node rejoins', async () => {
    const [a, b] = pods;
    if (a === undefined || b === undefined) throw new Error('two pods');
    const viaSdk: number[] = [];
    sdk = createClient({ url: `ws://127.0.0.1:${a.wsPort}/`, projectId: project, WebSocket, reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
    const opened = new Promise<void>((resolve) => sdk?.on('open', () => resolve()));
    sdk.subscribe<{ n: number }>(queue, (m) => viaSdk.push(m.body.n), { from: 'first' });
    await opened;
    const raw = await TestWsClient.connect(`ws://127.0.0.1:${b.wsPort}/`);
    expect((await raw.request({ action: 'subscription_create', headers, body: { queue_name: queue, ttl: 3600, marker: 'first' } })).headers.status).toBe(201);
    const rawIds: string[] = [];
    raw.socket.on('message', (d) => {
      const f = JSON.parse(String(d)) as { Message_Type?: string; message_id?: string };
      if (f.Message_Type === 'Notification' && f.message_id !== undefined) rawIds.push(f.message_id);
    });

    const acked: number[] = [];
    let failed = 0;
    let i = 0;
    let stop = false;
    let outageStartedAt = 0;
    let firstFailureAt = 0;
    let recoveredAt = 0;
    const producer = (async () => {
      while (!stop) {
        const n = i++;
        const status = await post(n % 2 === 0 ? a : b, n);
        if (status === 201) {
          acked.push(n);
          if (outageStartedAt !== 0 && firstFailureAt !== 0 && recoveredAt === 0) recoveredAt = Date.now();
        } else {
          failed++;
          if (outageStartedAt !== 0 && firstFailureAt === 0) firstFailureAt = Date.now();
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    await until(() => acked.length >= 100, 60_000, '100 posts before the stop');

    const stream = streamNameOf(topologyNames(exchange), { kind: 'queue', project, queue });
    const [seed] = cluster.nodes;
    if (seed === undefined) throw new Error('no node');
    const rows = JSON.parse(await seed.ctl('-q', 'list_queues', 'name', 'leader', 'members', '--formatter', 'json')) as { name: string; leader: string; members: string[] }[];
    const row = rows.find((r) => r.name === stream);
    expect(row?.members).toHaveLength(3);
    const leader = cluster.nodes.find((n) => n.node === row?.leader);
    if (leader === undefined) throw new Error(`no leader for ${stream}: ${JSON.stringify(rows)}`);

    outageStartedAt = Date.now();
    const ackedAtStop = acked.length;
    await leader.stopApp();
    await until(() => acked.length >= ackedAtStop + 100, 120_000, '100 posts after the leader stopped');
    await leader.startApp();
    await seed.ctl('-q', 'await_online_nodes', '3');
    const ackedAtRejoin = acked.length;
    await until(() => acked.length >= ackedAtRejoin + 50, 60_000, '50 posts after the node rejoined');
    stop = true;
    await producer;
    console.log(
      `cluster failover: leader ${leader.node} stopped; ${failed} posts refused (503/timeout) meanwhile; ` +
        `posts answered 201 again ${recoveredAt === 0 ? 'without a failure' : `${recoveredAt - firstFailureAt} ms after the first failure`}, ` +
        `${(recoveredAt === 0 ? Date.now() : recoveredAt) - outageStartedAt} ms after the stop`,
    );

    // Nothing acknowledged is lost, and the log holds each message once, on both pods.
    const listedA = await listAll(a);
    expect(new Set(listedA).size).toBe(listedA.length);
    for (const n of acked) expect(listedA).toContain(n);
    await until(() => listedA.every((n) => viaSdk.includes(n)), 60_000, 'the SDK subscriber caught up');
    await until(() => rawIds.length >= listedA.length, 60_000, 'the raw subscriber caught up');
    expect(await listAll(b)).toEqual(listedA);
    // Each subscriber got each message once, in the log's order.
    expect(viaSdk).toEqual(listedA);
    expect(new Set(rawIds).size).toBe(rawIds.length);
    expect(rawIds.length).toBe(listedA.length);
    // The node is back in the cluster, and the shared broker never noticed.
    const status = JSON.parse(await seed.ctl('-q', 'cluster_status', '--formatter', 'json')) as { running_nodes: string[] };
    expect(status.running_nodes).toHaveLength(3);
    expect(await shared.undisturbed()).toBe(true);
    await raw.close();
  });
});
