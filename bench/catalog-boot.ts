/**
 * Pod start-up on a long-lived catalogue: restoring the newest snapshot and folding only the
 * records after it, against replaying the whole catalogue log (the behaviour before snapshots),
 * measured in alternating rounds on the same backend and the same log.
 *
 * The catalogue: `queues` queues and `churn` WebSocket subscribe/unsubscribe pairs (what a
 * dashboard's reconnects leave behind), then a snapshot, then `tail` more records.
 */
import { randomUUID } from 'node:crypto';
import { MemoryBackend } from '../src/backends/memory/index.js';
import { RabbitMqBackend } from '../src/backends/rabbitmq/index.js';
import { createZaqarService } from '../src/core/engine.js';
import type { Backend } from '../src/core/ports.js';

export interface CatalogBootResult {
  readonly records: number;
  readonly snapshotMs: number[];
  readonly replayMs: number[];
  readonly foldedWithSnapshot: number;
  readonly foldedWithoutSnapshot: number;
}

const ctx = { project: 'bench-catalog', clientId: null };

async function inBatches(n: number, batch: number, f: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += batch) await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => f(i + j)));
}

/** A view of the backend that never finds a snapshot: a pod then replays the whole catalogue. */
function withoutSnapshots(b: Backend): Backend {
  return {
    name: b.name,
    start: () => b.start(),
    close: async () => undefined,
    append: (log, event) => b.append(log, event),
    tail: (log, start, handler) => b.tail(log, start, handler),
    firstOffset: (log) => b.firstOffset(log),
    deleteLog: (log) => b.deleteLog(log),
    saveCatalogSnapshot: (snapshot) => b.saveCatalogSnapshot(snapshot),
    loadCatalogSnapshot: async () => null,
    status: () => b.status(),
    onStatus: (listener) => b.onStatus(listener),
  };
}

async function timedStart(backend: Backend): Promise<{ ms: number; folded: number }> {
  const s = createZaqarService({ backend, catalogSnapshots: { records: 0 } });
  const t0 = process.hrtime.bigint();
  await s.start();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const folded = s.catalogOrigin.recordsFolded;
  await s.close();
  return { ms, folded };
}

export async function catalogBoot(
  kind: 'memory' | 'rabbitmq',
  opts: { url?: string; exchange: string; queues: number; churn: number; tail: number; rounds: number },
): Promise<CatalogBootResult> {
  const exchange = opts.exchange;
  const makeBackend = (): Backend => (kind === 'memory' ? shared : new RabbitMqBackend({ url: opts.url ?? '', exchange }));
  const shared: Backend = new MemoryBackend();
  const writerBackend = makeBackend();
  await writerBackend.start();
  const writer = createZaqarService({ backend: writerBackend, catalogSnapshots: { records: 0 } });
  await writer.start();
  await inBatches(opts.queues, 100, (i) => writer.createQueue(ctx, `q-${i}`, { _default_message_ttl: 300, n: i }));
  await inBatches(opts.churn, 100, async (i) => {
    const q = `q-${i % opts.queues}`;
    const sub = await writer.createSubscription(ctx, q, { subscriber: `http://ws/${randomUUID()}`, websocket: true, ttl: 3600 });
    await writer.deleteSubscription(ctx, q, sub.id);
  });
  await writer.snapshotCatalog();
  await inBatches(opts.tail, 50, (i) => writer.createQueue(ctx, `late-${i}`));
  const records = writer.catalogOrigin.recordsFolded;
  await writer.close();

  const snapshotMs: number[] = [];
  const replayMs: number[] = [];
  let foldedWithSnapshot = 0;
  let foldedWithoutSnapshot = 0;
  const reader = makeBackend();
  await reader.start();
  try {
    for (let r = 0; r < opts.rounds; r++) {
      const a = await timedStart(reader);
      snapshotMs.push(a.ms);
      foldedWithSnapshot = a.folded;
      const b = await timedStart(withoutSnapshots(reader));
      replayMs.push(b.ms);
      foldedWithoutSnapshot = b.folded;
    }
  } finally {
    if (reader !== writerBackend) await reader.close();
    await writerBackend.close();
  }
  return { records, snapshotMs, replayMs, foldedWithSnapshot, foldedWithoutSnapshot };
}
