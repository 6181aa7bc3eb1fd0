/**
 * Many connections on one pod (issue 11 §4): RSS per subscribed WebSocket connection, the rate
 * at which clients subscribe (one after another), and post → notification latency with that
 * many subscribers. The idle case is `idleConnectionBytes` (bench/extra.ts).
 */
import { randomUUID } from 'node:crypto';
import { requestGc, type RunningServer } from './lib/child.js';
import { closeAll, openSubscribers, postToNotification } from './scenarios.js';

export interface ManyResult {
  readonly bytesPerSubscribed: number;
  readonly subscribesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly deliveries: number;
  readonly expected: number;
}

export async function manySubscribers(server: RunningServer, count: number, messages = 20): Promise<ManyResult> {
  const settle = async (): Promise<number> => {
    requestGc(server);
    await new Promise((r) => setTimeout(r, 1000));
    return server.rss();
  };
  const queue = `many${randomUUID().slice(0, 8)}`;
  const before = await settle();
  const t0 = process.hrtime.bigint();
  const sockets = await openSubscribers([server.wsPort ?? 0], queue, count);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await settle();
  const lat = await postToNotification([server.restPort], sockets, queue, messages);
  await closeAll(sockets);
  return { bytesPerSubscribed: (after - before) / count, subscribesPerSecond: count / seconds, ...lat };
}
