/**
 * Where the time of one REST post goes (issue 11 §1): the client's latency beside the bridge's
 * own per-stage timestamps (bench/lib/stages.ts), and the raw floors of the same broker in the
 * same run — a confirmed stream publish alone, and a confirmed publish read back by a stream
 * consumer (what read-your-writes costs at the least).
 */
import { randomUUID } from 'node:crypto';
import { openRawStream, postEventBytes, tailRawStream } from './extra.js';
import type { RunningServer } from './lib/child.js';
import { load } from './lib/http-load.js';
import type { StageSummary } from './lib/stages.js';
import { percentile } from './lib/stats.js';
import { workflowBody } from './scenarios.js';

const HEADERS = { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench' };

export interface PostProfile {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly stages: StageSummary | undefined;
}

/** `total` single-message posts with `concurrency` in flight; the bridge's stages over the same posts. */
export async function profilePosts(server: RunningServer, queue: string, total: number, concurrency: number): Promise<PostProfile> {
  const path = `/v2/queues/${queue}/messages`;
  const spec = (i: number): { method: string; path: string; headers: Record<string, string>; body: string } => ({
    method: 'POST',
    path,
    headers: HEADERS,
    body: JSON.stringify({ messages: [{ body: workflowBody(i) }] }),
  });
  await load(server.restPort, spec, Math.max(200, total / 4), concurrency, 0); // warm-up, not measured
  await server.stages(); // drop the warm-up's samples
  const r = await load(server.restPort, spec, total, concurrency, 0);
  if (r.errors > 0) throw new Error(`${r.errors} posts failed on ${queue}`);
  return { perSecond: r.perSecond, p50: percentile(r.latenciesMs, 50), p99: percentile(r.latenciesMs, 99), stages: await server.stages() };
}

export interface RawFloor {
  /** Confirmed publish, one at a time: publish → confirm (ms). */
  readonly confirmP50: number;
  readonly confirmP99: number;
  /** Confirmed publish, one at a time, read back by a consumer of the same stream: publish → delivery (ms). */
  readonly readBackP50: number;
  readonly readBackP99: number;
  /** publish → the later of confirm and delivery (ms): the least a read-your-writes post can wait. */
  readonly bothP50: number;
  readonly bothP99: number;
}

/** Raw amqplib on the same broker: one message at a time to a stream with a live consumer. */
export async function rawFloor(url: string, total: number): Promise<RawFloor> {
  const { conn, ch: pub, stream } = await openRawStream(url, 'floor');
  const delivered = new Map<string, () => void>();
  await tailRawStream(conn, stream, 256, (msg) => delivered.get(msg.properties.messageId as string)?.());
  const confirm: number[] = [];
  const readBack: number[] = [];
  const both: number[] = [];
  const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
  for (let i = 0; i < total; i++) {
    const id = randomUUID();
    const t0 = process.hrtime.bigint();
    const back = new Promise<void>((resolve) => delivered.set(id, () => (readBack.push(ms(t0)), resolve())));
    const confirmed = new Promise<void>((resolve, reject) =>
      pub.sendToQueue(stream, postEventBytes(id), { persistent: true, messageId: id }, (err) => {
        if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
        confirm.push(ms(t0));
        resolve();
      }),
    );
    await Promise.all([back, confirmed]);
    both.push(ms(t0));
    delivered.delete(id);
  }
  await pub.deleteQueue(stream);
  await conn.close();
  const skip = Math.min(50, Math.floor(total / 10)); // the first few are a cold stream
  const p = (xs: number[], q: number): number => percentile(xs.slice(skip), q);
  return {
    confirmP50: p(confirm, 50),
    confirmP99: p(confirm, 99),
    readBackP50: p(readBack, 50),
    readBackP99: p(readBack, 99),
    bothP50: p(both, 50),
    bothP99: p(both, 99),
  };
}
