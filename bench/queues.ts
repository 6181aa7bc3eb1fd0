/**
 * Many queues on RabbitMQ (issue 11 §3; TripleO's CLI makes a uuid-named queue per command):
 * create N queues, post one message to each, subscribe to some of them over WebSocket,
 * restart the pod on that catalogue, then delete every queue. It reports the rate of each
 * phase, what a queue costs the broker (memory, disk, open files) and the pod (memory per
 * folded queue), the pod's start-up time on that catalogue, and the broker's queue count
 * after the deletions (a deleted queue must leave no stream behind).
 *
 * The broker is a node of the benchmark's own (bench/lib/broker.ts): one stream holds two
 * files open on the broker, so N streams need an open-file limit well above 2·N, and a pod
 * tailing more than 2,047 queues at once needs a `channel_max` above RabbitMQ's default.
 */
import { Agent } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import WebSocket from 'ws';
import { startBenchBroker, type BenchBroker } from './lib/broker.js';
import { requestGc, startServer, type RunningServer } from './lib/child.js';
import { send } from './lib/http-load.js';

export interface QueuesResult {
  readonly queues: number;
  readonly posted: number;
  readonly foldedQueues: number;
  readonly subscribed: number;
  readonly createdPerSecond: number;
  readonly postedPerSecond: number;
  readonly subscribedPerSecond: number;
  readonly deletedPerSecond: number;
  readonly brokerBytesPerQueue: number;
  readonly diskBytesPerQueue: number;
  readonly brokerFilesPerQueue: number;
  readonly podBytesPerFoldedQueue: number;
  readonly podStartMs: number;
  readonly streamsBefore: number;
  readonly streamsAfterPosts: number;
  readonly streamsAfterDelete: number;
  readonly brokerBytesAfterDelete: number;
  readonly diskBytesAfterDelete: number;
  readonly errors: number;
}

const PROJECT = 'bench-queues';
const HEADERS = { 'Client-ID': randomUUID(), 'X-Project-ID': PROJECT };

/** Runs `f` over 0..n-1 with `concurrency` loops; returns the seconds taken and the failures. */
async function parallel(n: number, concurrency: number, f: (i: number) => Promise<boolean>): Promise<{ seconds: number; errors: number }> {
  let next = 0;
  let errors = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) if (!(await f(i).catch(() => false))) errors++;
    }),
  );
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, errors };
}

async function openFiles(broker: BenchBroker): Promise<number> {
  const pid = (await broker.ctl('eval', 'list_to_integer(os:getpid()).')).trim();
  return (await readdir(`/proc/${pid}/fd`)).length;
}

async function settledRss(server: RunningServer): Promise<number> {
  requestGc(server);
  await new Promise((r) => setTimeout(r, 1500));
  return server.rss();
}

async function subscribe(port: number, queue: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ action: 'subscription_create', headers: HEADERS, body: { queue_name: queue, ttl: 3600 } }));
  const reply = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
  if (!/"status": ?201/.test(reply)) throw new Error(`subscription_create answered ${reply.slice(0, 200)}`);
  return ws;
}

/** The pod's `zaqar_bridge_queues_held` gauge. */
async function queuesHeld(server: RunningServer): Promise<number> {
  const text = (await send(server.restPort, { method: 'GET', path: '/metrics' })).body;
  return Number(/^zaqar_bridge_queues_held (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/**
 * `count` queues in the catalogue, the first `posted` of them posted to (each post creates the
 * queue's stream), the first `subscribed` of those subscribed to; then all deleted.
 */
export async function manyQueues(
  bridgeScript: string,
  sizes: { readonly count: number; readonly posted: number; readonly subscribed: number },
  log: (line: string) => void,
): Promise<QueuesResult> {
  const { count, posted: postedCount, subscribed } = sizes;
  const broker = await startBenchBroker('queues', { channelMax: 16_000 });
  const env = { RABBITMQ_URL: broker.url, RABBITMQ_EXCHANGE: 'zaqar' };
  const names = Array.from({ length: count }, () => randomUUID());
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const prefix = 'zaqar.q.';
  const streams = async (): Promise<number> => (await broker.queues()).filter((q) => q.startsWith(prefix)).length;
  let server = await startServer(bridgeScript, env);
  const sockets: WebSocket[] = [];
  try {
    const streamsBefore = await streams();
    const broker0 = { rss: await broker.rss(), disk: await broker.diskBytes(), files: await openFiles(broker) };
    const pod0 = await settledRss(server);

    const created = await parallel(count, 32, async (i) => (await send(server.restPort, { method: 'PUT', path: `/v2/queues/${names[i]}`, body: '{}', headers: HEADERS }, agent)).status === 201);
    log(`created ${count} queues in ${created.seconds.toFixed(1)} s (${created.errors} errors)`);
    const body = JSON.stringify({ messages: [{ body: { type: 'tripleo.bench', payload: { status: 'RUNNING' } }, ttl: 3600 }] });
    const posted = await parallel(postedCount, 32, async (i) => (await send(server.restPort, { method: 'POST', path: `/v2/queues/${names[i]}/messages`, body, headers: HEADERS }, agent)).status === 201);
    log(`posted to ${postedCount} queues in ${posted.seconds.toFixed(1)} s (${posted.errors} errors)`);
    const streamsAfterPosts = await streams();
    await new Promise((r) => setTimeout(r, 2000));
    const broker1 = { rss: await broker.rss(), disk: await broker.diskBytes(), files: await openFiles(broker) };
    const pod1 = await settledRss(server);
    const held = await queuesHeld(server);

    const t0 = process.hrtime.bigint();
    for (let i = 0; i < subscribed; i++) sockets.push(await subscribe(server.wsPort ?? 0, names[i] ?? ''));
    const subscribeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    log(`subscribed to ${subscribed} queues in ${subscribeSeconds.toFixed(1)} s`);
    for (const ws of sockets) ws.terminate();
    sockets.length = 0;

    // A new pod on this catalogue: the time from spawn to serving.
    await server.stop();
    const s0 = process.hrtime.bigint();
    server = await startServer(bridgeScript, env);
    const podStartMs = Number(process.hrtime.bigint() - s0) / 1e6;
    log(`pod started on ${count} queues in ${podStartMs.toFixed(0)} ms`);

    const deleted = await parallel(count, 32, async (i) => (await send(server.restPort, { method: 'DELETE', path: `/v2/queues/${names[i]}`, headers: HEADERS }, agent)).status === 204);
    log(`deleted ${count} queues in ${deleted.seconds.toFixed(1)} s (${deleted.errors} errors)`);
    await new Promise((r) => setTimeout(r, 2000));
    const streamsAfterDelete = await streams();
    log(`left on disk after deleting all: ${JSON.stringify(await broker.diskBreakdown())}`);
    return {
      queues: count,
      subscribed,
      createdPerSecond: count / created.seconds,
      posted: postedCount,
      postedPerSecond: postedCount / posted.seconds,
      subscribedPerSecond: subscribed / subscribeSeconds,
      deletedPerSecond: count / deleted.seconds,
      brokerBytesPerQueue: (broker1.rss - broker0.rss) / postedCount,
      diskBytesPerQueue: (broker1.disk - broker0.disk) / postedCount,
      brokerFilesPerQueue: (broker1.files - broker0.files) / postedCount,
      foldedQueues: held,
      podBytesPerFoldedQueue: (pod1 - pod0) / held,
      podStartMs,
      streamsBefore,
      streamsAfterPosts,
      streamsAfterDelete,
      brokerBytesAfterDelete: (await broker.rss()) - broker0.rss,
      diskBytesAfterDelete: (await broker.diskBytes()) - broker0.disk,
      errors: created.errors + posted.errors + deleted.errors,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    agent.destroy();
    await server.stop();
    await broker.close();
  }
}
