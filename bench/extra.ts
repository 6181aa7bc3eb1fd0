/**
 * The benchmarks of the RabbitMQ, reattach and validation work: raw amqplib stream
 * publishing (the baseline of REST posts on RabbitMQ), memory per idle WebSocket connection,
 * reattach replay time and broker reads during a reconnect storm, and the cost of a schema on
 * the post path.
 */
import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import WebSocket from 'ws';
import { requestGc, type RunningServer } from './lib/child.js';
import { load, send, type HttpClient } from './lib/http-load.js';
import { percentile } from './lib/stats.js';
import { closeAll, workflowBody } from './scenarios.js';

const HEADERS = { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench' };

/** A connection, a confirm channel and a fresh stream on it, for the raw amqplib baselines. */
export async function openRawStream(url: string, label: string): Promise<{ conn: ChannelModel; ch: ConfirmChannel; stream: string }> {
  // TCP_NODELAY, as the bridge's connection: without it Nagle holds small frames ~40 ms.
  const conn = await connect(url, { noDelay: true });
  const ch = await conn.createConfirmChannel();
  const stream = `bench.${label}.${randomUUID().slice(0, 8)}`;
  await ch.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  await new Promise((r) => setTimeout(r, 300)); // a brand-new 3.10 stream needs a moment (see backend)
  return { conn, ch, stream };
}

/**
 * A live reader of `stream` from its next record, on its own channel of `conn`. A stream
 * consumer's acks are only its credit: one `multiple` ack per half prefetch, so it never runs
 * out (the bridge's tails do the same).
 */
export async function tailRawStream(conn: ChannelModel, stream: string, prefetch: number, onRecord: (msg: ConsumeMessage) => void): Promise<void> {
  const sub = await conn.createChannel();
  await sub.prefetch(prefetch, false);
  let unacked = 0;
  await sub.consume(
    stream,
    (msg) => {
      if (msg === null) return;
      if (++unacked >= prefetch / 2) {
        sub.ack(msg, true);
        unacked = 0;
      }
      onRecord(msg);
    },
    { noAck: false, arguments: { 'x-stream-offset': 'next' } },
  );
}

/** A record the size and shape of a bridge post event of one workflow message. */
export function postEventBytes(id: string): Buffer {
  return Buffer.from(JSON.stringify({ type: 'post', rid: id, at: Date.now(), clientId: id, messages: [{ id, body: workflowBody(0), ttl: 3600, delay: 0 }] }));
}

/**
 * Raw amqplib: persistent messages of the same size as a bridge post event, published with
 * confirms to a stream, keeping `inFlight` unconfirmed (16 = the HTTP benchmark's concurrency).
 */
export async function rawStreamPublish(url: string, total: number, inFlight: number): Promise<number> {
  const { conn, ch, stream } = await openRawStream(url, 'raw');
  const payload = postEventBytes(randomUUID());
  let sent = 0;
  let done = 0;
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (sent < total && sent - done < inFlight) {
        sent++;
        ch.sendToQueue(stream, payload, { persistent: true }, (err) => {
          if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
          done++;
          if (done === total) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await ch.deleteQueue(stream);
  await conn.close();
  return total / seconds;
}

/** Messages per second stored by REST posts of `perPost` messages each to `queue`. */
export async function restPosts(port: number, queue: string, total = 4000, concurrency = 16, perPost = 1, client?: HttpClient): Promise<number> {
  const path = `/v2/queues/${queue}/messages`;
  const r = await load(
    port,
    (i) => ({
      method: 'POST',
      path,
      headers: HEADERS,
      body: JSON.stringify({ messages: Array.from({ length: perPost }, (_, j) => ({ body: workflowBody(i * perPost + j) })) }),
    }),
    total,
    concurrency,
    undefined,
    client,
  );
  if (r.errors > 0) throw new Error(`${r.errors} posts failed on ${queue}`);
  return r.perSecond * perPost;
}

/** RSS growth of the server per idle WebSocket connection (after a GC), over `count` connections. */
export async function idleConnectionBytes(server: RunningServer, count: number): Promise<number> {
  const settle = async (): Promise<number> => {
    requestGc(server);
    await new Promise((r) => setTimeout(r, 500));
    return server.rss();
  };
  const before = await settle();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.wsPort ?? 0}/`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    sockets.push(ws);
  }
  const after = await settle();
  await closeAll(sockets);
  return (after - before) / count;
}

async function open(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** Sends subscription_create with a reattach marker; resolves with the 201's body. */
function reattach(ws: WebSocket, queue: string, marker: string): Promise<{ marker: string; replayed: number; gap: boolean }> {
  return new Promise((resolve) => {
    ws.once('message', (d: WebSocket.RawData) => resolve((JSON.parse(d.toString()) as { body: { marker: string; replayed: number; gap: boolean } }).body));
    ws.send(JSON.stringify({ action: 'subscription_create', headers: HEADERS, body: { queue_name: queue, ttl: 3600, marker } }));
  });
}

export async function postMany(port: number, queue: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 20) {
    const messages = Array.from({ length: Math.min(20, count - i) }, (_, j) => ({ body: workflowBody(i + j) }));
    const r = await send(port, { method: 'POST', path: `/v2/queues/${queue}/messages`, headers: HEADERS, body: JSON.stringify({ messages }) });
    if (r.status !== 201) throw new Error(`post failed: ${r.status} ${r.body}`);
  }
}

export interface ReattachResult {
  readonly firstP50: number;
  readonly firstP99: number;
  readonly allP50: number;
  readonly allP99: number;
}

/**
 * A client that saw marker M disconnects, 1,000 messages are posted, it reattaches with M:
 * time from the request to the first and to the 1,000th replayed notification (ms).
 */
export async function reattachReplay(server: RunningServer, rounds = 15, missed = 1000): Promise<ReattachResult> {
  const queue = `reattach${randomUUID().slice(0, 6)}`;
  const first: number[] = [];
  const all: number[] = [];
  const ws0 = await open(server.wsPort ?? 0);
  let marker = (await reattach(ws0, queue, 'next')).marker;
  await closeAll([ws0]);
  for (let r = 0; r < rounds; r++) {
    await postMany(server.restPort, queue, missed);
    const ws = await open(server.wsPort ?? 0);
    let got = 0;
    const t0 = process.hrtime.bigint();
    const finished = new Promise<void>((resolve) => {
      ws.on('message', (d: WebSocket.RawData) => {
        const f = JSON.parse(d.toString()) as { marker?: string; request?: unknown };
        if (f.request !== undefined || f.marker === undefined) return;
        got++;
        marker = f.marker;
        if (got === 1) first.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (got === missed) {
          all.push(Number(process.hrtime.bigint() - t0) / 1e6);
          resolve();
        }
      });
    });
    const res = await reattach(ws, queue, marker);
    if (res.replayed !== missed || res.gap) throw new Error(`unexpected replay ${JSON.stringify(res)}`);
    await finished;
    await closeAll([ws]);
  }
  return { firstP50: percentile(first, 50), firstP99: percentile(first, 99), allP50: percentile(all, 50), allP99: percentile(all, 99) };
}

export interface StormResult {
  readonly clients: number;
  readonly seconds: number;
  readonly tailsPerReattach: number;
  readonly recordsPerReattach: number;
}

/**
 * A reconnect storm: `clients` clients of one queue all reattach at once after 1,000
 * messages were posted; counts the backend reads (tails opened, records read) the storm cost.
 */
export async function reconnectStorm(server: RunningServer, clients = 500, missed = 1000): Promise<StormResult> {
  const queue = `storm${randomUUID().slice(0, 6)}`;
  const ws0 = await open(server.wsPort ?? 0);
  const marker = (await reattach(ws0, queue, 'next')).marker;
  await closeAll([ws0]);
  await postMany(server.restPort, queue, missed);
  const sockets = await Promise.all(Array.from({ length: clients }, () => open(server.wsPort ?? 0)));
  const before = await server.counts();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          let got = 0;
          ws.on('message', (d: WebSocket.RawData) => {
            if (JSON.parse(d.toString()).Message_Type !== undefined && ++got === missed) resolve();
          });
          ws.send(JSON.stringify({ action: 'subscription_create', headers: HEADERS, body: { queue_name: queue, ttl: 3600, marker } }));
        }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await server.counts();
  await closeAll(sockets);
  return {
    clients,
    seconds,
    tailsPerReattach: (after.tails - before.tails) / clients,
    recordsPerReattach: (after.records - before.records) / clients,
  };
}
