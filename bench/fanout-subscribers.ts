/**
 * A subscriber process of the fan-out benchmark (bench/fanout.ts), forked with an IPC channel.
 * It holds its share of the WebSocket subscribers: each opens a socket, sends `queue_create`
 * then `subscription_create` (waiting for each answer), as the TripleO UI does; every frame
 * received is parsed and the send time the poster put in the message body is read from it.
 *
 * Times are CLOCK_MONOTONIC (`process.hrtime`), the same clock in every process on the machine,
 * so a latency is the arrival here minus the send time written by the poster process.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { closeAll } from './scenarios.js';

export type ToSubscribers =
  | { readonly op: 'grow'; readonly count: number; readonly port: number; readonly queue: string }
  | { readonly op: 'saturate'; readonly seqBase: number }
  | { readonly op: 'latency'; readonly seqBase: number; readonly count: number }
  /** Answers the deliveries since `saturate`, or the samples since `latency`. */
  | { readonly op: 'count' }
  | { readonly op: 'collect' }
  | { readonly op: 'close' };

export type FromSubscribers =
  | { readonly op: 'grown'; readonly count: number; readonly closed: number }
  | { readonly op: 'done'; readonly seq: number }
  | { readonly op: 'count'; readonly deliveries: number }
  | { readonly op: 'samples'; readonly samples: number[]; readonly closed: number }
  | { readonly op: 'closed' }
  | { readonly op: 'error'; readonly message: string };

const HEADERS = { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench' };
const OPEN_CONCURRENCY = 25;
const sockets: WebSocket[] = [];
let closed = 0;
let mode: { kind: 'idle' } | { kind: 'saturate'; seqBase: number; counts: Map<number, number> } | { kind: 'latency'; seqBase: number; count: number } = {
  kind: 'idle',
};
let deliveries = 0;
let samples: number[] = [];

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const reply = (m: FromSubscribers): void => {
  process.send?.(m);
};

function onFrame(data: WebSocket.RawData): void {
  const now = nowMs();
  const frame = JSON.parse(data.toString()) as { body?: { payload?: { seq?: number; t?: number } } };
  const p = frame.body?.payload;
  if (p?.seq === undefined || p.t === undefined) return;
  if (mode.kind === 'saturate') {
    if (p.seq < mode.seqBase) return;
    deliveries++;
    const c = (mode.counts.get(p.seq) ?? 0) + 1;
    if (c === sockets.length) {
      mode.counts.delete(p.seq);
      reply({ op: 'done', seq: p.seq });
    } else mode.counts.set(p.seq, c);
  } else if (mode.kind === 'latency') {
    if (p.seq >= mode.seqBase && p.seq < mode.seqBase + mode.count) samples.push(now - p.t);
  }
}

function status(data: WebSocket.RawData): number {
  return (JSON.parse(data.toString()) as { headers?: { status?: number } }).headers?.status ?? 0;
}

async function openOne(port: number, queue: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const ask = (action: string, body: Record<string, unknown>): Promise<number> =>
    new Promise((resolve) => {
      ws.once('message', (d: WebSocket.RawData) => resolve(status(d)));
      ws.send(JSON.stringify({ action, headers: HEADERS, body }));
    });
  const created = await ask('queue_create', { queue_name: queue });
  if (created < 200 || created >= 300) throw new Error(`queue_create: ${created}`);
  const subscribed = await ask('subscription_create', { queue_name: queue, ttl: 3600 });
  if (subscribed < 200 || subscribed >= 300) throw new Error(`subscription_create: ${subscribed}`);
  ws.on('message', onFrame);
  ws.on('close', () => closed++);
  return ws;
}

async function grow(count: number, port: number, queue: string): Promise<void> {
  let next = sockets.length;
  await Promise.all(
    Array.from({ length: OPEN_CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        sockets.push(await openOne(port, queue));
      }
    }),
  );
}


process.on('message', (m: ToSubscribers) => {
  void (async () => {
    switch (m.op) {
      case 'grow':
        await grow(m.count, m.port, m.queue);
        reply({ op: 'grown', count: sockets.length, closed });
        break;
      case 'saturate':
        deliveries = 0;
        mode = { kind: 'saturate', seqBase: m.seqBase, counts: new Map() };
        break;
      case 'latency':
        samples = [];
        mode = { kind: 'latency', seqBase: m.seqBase, count: m.count };
        break;
      case 'count':
        reply({ op: 'count', deliveries: mode.kind === 'latency' ? samples.length : deliveries });
        break;
      case 'collect':
        mode = { kind: 'idle' };
        reply({ op: 'samples', samples, closed });
        samples = [];
        break;
      case 'close':
        await closeAll(sockets);
        reply({ op: 'closed' });
        process.disconnect();
        break;
    }
  })().catch((e: unknown) => reply({ op: 'error', message: e instanceof Error ? e.message : String(e) }));
});
