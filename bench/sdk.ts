/**
 * Reattach through the SDK after a cut: a subscribed client loses its link (a TCP proxy kills
 * it and refuses new connections), 1,000 messages are posted meanwhile, the link comes back;
 * time from the link's return to the first and to the 1,000th message the application gets.
 * The SDK's own backoff is part of it (bounded here to 20 ms, jitter off), as it would be for
 * a user; its baseline is the raw-protocol replay of the same 1,000 (bench/extra.ts).
 */
import WebSocket from 'ws';
import { createClient } from '../clients/js/src/index.js';
import { startAmqpProxy } from '../test/fixtures/rabbitmq-proxy.js';
import { postMany } from './extra.js';
import type { RunningServer } from './lib/child.js';
import { percentile } from './lib/stats.js';

export interface SdkReattachResult {
  readonly firstP50: number;
  readonly firstP99: number;
  readonly allP50: number;
  readonly allP99: number;
  readonly duplicates: number;
}

export async function sdkReattach(server: RunningServer, rounds = 15, missed = 1000): Promise<SdkReattachResult> {
  const proxy = await startAmqpProxy(`ws://127.0.0.1:${server.wsPort ?? 0}/`);
  const queue = `sdkreattach${Date.now() % 100000}`;
  const client = createClient({
    url: proxy.url,
    projectId: 'bench',
    WebSocket,
    reconnect: { minDelayMs: 5, maxDelayMs: 20, jitter: 0 },
    pingIntervalMs: 0,
  });
  const first: number[] = [];
  const all: number[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let got = 0;
  let t0 = 0n;
  let wake: (() => void) | null = null;
  try {
    const opened = new Promise<void>((resolve) => client.on('open', () => resolve()));
    client.subscribe(queue, (m) => {
      if (seen.has(m.id)) duplicates++;
      seen.add(m.id);
      got++;
      if (got === 1) first.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (got === missed) {
        all.push(Number(process.hrtime.bigint() - t0) / 1e6);
        wake?.();
      }
    });
    await opened;
    for (let r = 0; r < rounds; r++) {
      proxy.refuse(true);
      proxy.kill();
      await postMany(server.restPort, queue, missed);
      got = 0;
      const done = new Promise<void>((resolve) => (wake = resolve));
      t0 = process.hrtime.bigint();
      proxy.refuse(false);
      await done;
    }
  } finally {
    await client.close();
    await proxy.close();
  }
  return { firstP50: percentile(first, 50), firstP99: percentile(first, 99), allP50: percentile(all, 50), allP99: percentile(all, 99), duplicates };
}
