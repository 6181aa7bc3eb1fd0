/**
 * The catalogue stream has an age retention, and losing its head loses nothing: a pod that
 * starts after RabbitMQ deleted the oldest catalogue segments restores the newest snapshot and
 * sees every queue and subscription. Without the snapshot the same pod would miss them (the
 * control below), which is what makes the first assertion mean something.
 *
 * Tiny segments and a 2 s retention make RabbitMQ really delete segments within the test. The
 * snapshot is larger than a segment, so it closes its segment at once: an age limit on the
 * snapshot stream would delete it too (it did, before the stream was bounded by size).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connect } from 'amqplib';
import { RabbitMqBackend, topologyNames } from '../../src/backends/rabbitmq/index.js';
import { createZaqarService, type CoreDiagnostic, type ZaqarEngine } from '../../src/core/engine.js';
import type { Backend, RequestContext } from '../../src/core/index.js';
import { deleteTopology, queueArguments, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('catret');
const open: { close(): Promise<void> }[] = [];

function backend(): RabbitMqBackend {
  const b = new RabbitMqBackend({ url, exchange, catalogRetentionSeconds: 2, segmentBytes: 4096, ingressQueueType: 'classic' });
  open.push(b);
  return b;
}

async function pod(b: Backend, diagnostics?: (d: CoreDiagnostic) => void): Promise<ZaqarEngine> {
  const s = createZaqarService({ backend: b, ...(diagnostics === undefined ? {} : { diagnostics }) });
  open.push(s);
  await s.start();
  return s;
}

afterAll(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  await deleteTopology(url, exchange, [{ kind: 'catalog' }]);
}, 60_000);

describe('catalogue retention with snapshots on RabbitMQ', { timeout: 120_000 }, () => {
  it('a pod started after the catalogue lost its head to retention still sees every queue', async () => {
    const ctx: RequestContext = { project: 'p-retention', clientId: null };
    const writer = await pod(backend());
    for (let i = 0; i < 150; i++) await writer.createQueue(ctx, `old-${i}`, { i });
    const hook = await writer.createSubscription(ctx, 'old-0', { subscriber: 'http://hook.example/x', ttl: 3600 });
    const snapshotOffset = await writer.snapshotCatalog();
    expect(snapshotOffset).not.toBeNull();

    // Past the retention, new records roll new segments, and RabbitMQ drops the old ones.
    await new Promise((r) => setTimeout(r, 2500));
    const probe = backend();
    await probe.start();
    let created = 0;
    const deadline = Date.now() + 60_000;
    while (((await probe.firstOffset({ kind: 'catalog' })) ?? 0) <= 50) {
      if (Date.now() > deadline) throw new Error('RabbitMQ never applied the catalogue retention');
      for (let i = 0; i < 20; i++) await writer.createQueue(ctx, `new-${created++}`);
    }

    const seen: CoreDiagnostic[] = [];
    const reader = await pod(backend(), (d) => seen.push(d));
    expect(reader.catalogOrigin.restoredOffset).toBeGreaterThanOrEqual(snapshotOffset ?? Infinity);
    expect(seen.map((d) => d.type)).not.toContain('catalog_head_missing');
    const listed = await reader.listQueues(ctx, { limit: 1 });
    expect(listed.count).toBe(150 + created);
    expect(await reader.getQueue(ctx, 'old-7')).toEqual({ i: 7 });
    expect((await reader.getSubscription(ctx, 'old-0', hook.id)).subscriber).toBe('http://hook.example/x');

    // The snapshot stream is bounded by size, never by age (see topology.ts).
    const names = topologyNames(exchange);
    const snapshots = queueArguments(inject('rabbitmqCtl'), names.catalogSnapshotStream);
    expect(snapshots).toMatch(/x-max-length-bytes/);
    expect(snapshots).not.toMatch(/x-max-age/);

    // Control: the same pod without the snapshot misses the old queues, and says so.
    const blind = backend();
    blind.loadCatalogSnapshot = async () => null;
    const missed: CoreDiagnostic[] = [];
    const control = await pod(blind, (d) => missed.push(d));
    expect((await control.listQueues(ctx, { limit: 1 })).count).toBeLessThan(150 + created);
    await expect.poll(() => missed.map((d) => d.type)).toContain('catalog_head_missing');

    // With the snapshots gone for real, a pod refuses to start on a partial catalogue.
    const admin = await connect(url);
    const channel = await admin.createChannel();
    await channel.deleteQueue(topologyNames(exchange).catalogSnapshotStream);
    await admin.close();
    const refused = createZaqarService({ backend: backend() });
    await expect(refused.start()).rejects.toThrow(/removed by retention and no snapshot/);
  });
});
