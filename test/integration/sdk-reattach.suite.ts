/**
 * The SDK through a TCP proxy that the test cuts at random moments while a producer posts
 * thousands of messages over REST: the application sees every message exactly once, in order.
 * Run on the memory backend (one bridge, `sdk-reattach.test.ts`) and on RabbitMQ (two bridge
 * pods, each cut moves the client to the other one: `sdk-reattach.rabbitmq.test.ts`).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from '../../clients/js/src/index.js';
import { startAmqpProxy } from '../fixtures/rabbitmq-proxy.js';
import { prng } from '../fixtures/prng.js';

export interface Bridge {
  readonly restPort: number;
  readonly wsPort: number;
}

export interface ReattachOptions {
  /** The bridges the client may land on; each cut sends new connections to the next one. */
  readonly bridges: readonly Bridge[];
  readonly project: string;
  readonly queue: string;
  readonly messages: number;
  readonly batch: number;
}

export interface ReattachResult {
  readonly received: number[];
  readonly reconnects: number;
  readonly cuts: number;
  readonly gaps: number;
}

export async function runReattach(opts: ReattachOptions, seed = Date.now() % 100_000): Promise<ReattachResult> {
  const random = prng(seed);
  const [first] = opts.bridges;
  if (first === undefined) throw new Error('no bridge');
  const proxy = await startAmqpProxy(`ws://127.0.0.1:${first.wsPort}/`);
  const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': opts.project, 'Content-Type': 'application/json' };
  const received: number[] = [];
  let reconnects = 0;
  let gaps = 0;
  let cuts = 0;
  let client: Client | undefined;
  try {
    client = createClient({
      url: proxy.url,
      projectId: opts.project,
      WebSocket,
      reconnect: { minDelayMs: 10, maxDelayMs: 200 },
      requestTimeoutMs: 5_000,
    });
    client.on('open', (e) => {
      if (e.reconnect) reconnects++;
    });
    const opened = new Promise<void>((resolve) => client?.on('open', () => resolve()));
    client.subscribe<{ n: number }>(opts.queue, (m) => received.push(m.body.n), { from: 'first', onGap: () => gaps++ });
    await opened;

    let producing = true;
    const chaos = (async () => {
      let next = 1;
      while (producing) {
        await new Promise((r) => setTimeout(r, 20 + random() * 100));
        if (!producing) break;
        const bridge = opts.bridges[next++ % opts.bridges.length] ?? first;
        proxy.retarget(`ws://127.0.0.1:${bridge.wsPort}/`);
        proxy.kill();
        cuts++;
      }
    })();
    for (let sent = 0; sent < opts.messages; sent += opts.batch) {
      // Posts go to the pods in turn, straight over REST (not through the proxy).
      const bridge = opts.bridges[(sent / opts.batch) % opts.bridges.length] ?? first;
      const messages = Array.from({ length: Math.min(opts.batch, opts.messages - sent) }, (_, i) => ({ body: { n: sent + i }, ttl: 3600 }));
      const res = await fetch(`http://127.0.0.1:${bridge.restPort}/v2/queues/${opts.queue}/messages`, { method: 'POST', headers, body: JSON.stringify({ messages }) });
      expect(res.status, `seed ${seed}`).toBe(201);
    }
    producing = false;
    await chaos;
    const deadline = Date.now() + 60_000;
    while (received.length < opts.messages && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Anything more would be a duplicate: give it a moment to show up.
    await new Promise((r) => setTimeout(r, 300));
    return { received: [...received], reconnects, cuts, gaps };
  } finally {
    await client?.close();
    await proxy.close();
  }
}

/** The assertions both backends share. */
export function expectExactlyOnceInOrder(result: ReattachResult, messages: number): void {
  expect(result.cuts).toBeGreaterThanOrEqual(5);
  expect(result.reconnects).toBeGreaterThanOrEqual(5);
  expect(result.gaps).toBe(0);
  expect(result.received.length).toBe(messages);
  expect(result.received).toEqual(Array.from({ length: messages }, (_, i) => i));
}
