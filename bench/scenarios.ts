/**
 * Benchmark scenarios, each run against any server that speaks the Zaqar wire shapes (the
 * bridge, or the baseline).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { load, send } from './lib/http-load.js';
import { percentile } from './lib/stats.js';

const HEADERS = { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench' };

/** A TripleO-style status message, about 250 bytes. */
export function workflowBody(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'tripleo.deployment.v1.deploy_plan',
    payload: {
      status: 'RUNNING',
      message: `step ${i} of the deployment is running`,
      execution_id: '6f1c2c4e-8d4f-4b8e-9a43-2b7c1f0e9d11',
      root_execution_id: null,
      plan_name: 'overcloud',
      deployment_status: 'DEPLOYING',
      ...extra,
    },
  };
}

export interface RestResult {
  readonly postPerSecond: number;
  readonly listPerSecond: number;
  readonly errors: number;
}

/** REST post throughput (one message per request), then list throughput, same queue. */
export async function restPostList(port: number, queue: string, total = 4000, concurrency = 16): Promise<RestResult> {
  const path = `/v2/queues/${queue}/messages`;
  const post = await load(
    port,
    (i) => ({ method: 'POST', path, headers: HEADERS, body: JSON.stringify({ messages: [{ body: workflowBody(i) }] }) }),
    total,
    concurrency,
  );
  const list = await load(
    port,
    () => ({ method: 'GET', path: `${path}?echo=true&limit=10`, headers: HEADERS }),
    total,
    concurrency,
  );
  return { postPerSecond: post.perSecond, listPerSecond: list.perSecond, errors: post.errors + list.errors };
}

export interface LatencyResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly deliveries: number;
  readonly expected: number;
}

/** Opens `count` subscribers spread over the given WS ports, each subscribed to `queue`. */
export async function openSubscribers(wsPorts: readonly number[], queue: string, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i++) {
    const port = wsPorts[i % wsPorts.length] ?? 0;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ action: 'subscription_create', headers: HEADERS, body: { queue_name: queue, ttl: 3600 } }));
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    sockets.push(ws);
  }
  return sockets;
}

/**
 * Post → notification latency: messages posted one at a time over REST (to the ports in
 * turn), every subscriber timestamps each notification; latency = arrival − post start.
 */
export async function postToNotification(
  restPorts: readonly number[],
  sockets: readonly WebSocket[],
  queue: string,
  messages = 200,
): Promise<LatencyResult> {
  const sentAt = new Map<number, bigint>();
  const samples: number[] = [];
  let deliveries = 0;
  const onMessage = (data: WebSocket.RawData): void => {
    const now = process.hrtime.bigint();
    const frame = JSON.parse(data.toString()) as { body?: { payload?: { seq?: number } } };
    const seq = frame.body?.payload?.seq;
    const t0 = seq === undefined ? undefined : sentAt.get(seq);
    if (t0 === undefined) return;
    deliveries++;
    samples.push(Number(now - t0) / 1e6);
  };
  for (const s of sockets) s.on('message', onMessage);
  for (let i = 0; i < messages; i++) {
    sentAt.set(i, process.hrtime.bigint());
    const port = restPorts[i % restPorts.length] ?? 0;
    await send(port, {
      method: 'POST',
      path: `/v2/queues/${queue}/messages`,
      headers: HEADERS,
      body: JSON.stringify({ messages: [{ body: workflowBody(i, { seq: i }) }] }),
    });
  }
  const expected = messages * sockets.length;
  const deadline = Date.now() + 10_000;
  while (deliveries < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const s of sockets) s.off('message', onMessage);
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), deliveries, expected };
}

export async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.readyState === WebSocket.CLOSED) resolve();
          else {
            s.once('close', () => resolve());
            s.close();
          }
        }),
    ),
  );
}
