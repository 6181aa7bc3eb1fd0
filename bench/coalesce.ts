/**
 * Coalescing (`_coalesce`): a burst of 10,000 identical `invalidateCache` LIST events posted to
 * a queue with 100 WebSocket subscribers, with and without a 250 ms window on `/value`. Counts
 * the notifications the subscribers receive and the server's CPU time (from /proc) for the burst.
 */
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { send } from './lib/http-load.js';
import { cpuSeconds, type RunningServer } from './lib/child.js';
import { closeAll, openSubscribers } from './scenarios.js';

const HEADERS = { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench' };
const LIST = { name: 'invalidateCache', value: { type: 'processes', id: 'LIST' } };

export interface CoalesceResult {
  readonly deliveries: number;
  readonly cpuMs: number;
  readonly seconds: number;
}

/** utime + stime of a process, ms. */
async function cpuMs(pid: number | undefined): Promise<number> {
  return (await cpuSeconds(pid)) * 1000;
}

export async function coalesceBurst(server: RunningServer, coalesce: boolean, events = 10_000, subscribers = 100): Promise<CoalesceResult> {
  const queue = `burst${randomUUID().slice(0, 8)}`;
  const metadata = coalesce ? { _coalesce: { window_ms: 250, key: '/value' } } : {};
  const created = await send(server.restPort, { method: 'PUT', path: `/v2/queues/${queue}`, headers: HEADERS, body: JSON.stringify(metadata) });
  if (created.status !== 201) throw new Error(`queue create: ${created.status} ${created.body}`);
  const sockets: WebSocket[] = await openSubscribers([server.wsPort ?? 0], queue, subscribers);
  let deliveries = 0;
  let last = Date.now();
  for (const ws of sockets) {
    ws.on('message', () => {
      deliveries++;
      last = Date.now();
    });
  }
  const cpu0 = await cpuMs(server.child.pid);
  const t0 = process.hrtime.bigint();
  const perPost = 100;
  const body = JSON.stringify({ messages: Array.from({ length: perPost }, () => ({ body: LIST, ttl: 300 })) });
  for (let i = 0; i < events; i += perPost) {
    const r = await send(server.restPort, { method: 'POST', path: `/v2/queues/${queue}/messages`, headers: HEADERS, body });
    if (r.status !== 201) throw new Error(`post: ${r.status} ${r.body}`);
  }
  // Done when nothing arrived for a second (longer than the window).
  last = Date.now();
  while (Date.now() - last < 1000) await new Promise((r) => setTimeout(r, 100));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9 - 1;
  const cpu = (await cpuMs(server.child.pid)) - cpu0;
  await closeAll(sockets);
  return { deliveries, cpuMs: cpu, seconds };
}
