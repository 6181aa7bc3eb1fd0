/**
 * Catalogue snapshots: a pod restored from a snapshot and the records after it decides exactly
 * as a pod that folded the whole catalogue log, and the catalogue log may then lose its head to
 * retention without losing a queue or a subscription.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/backends/memory/index.js';
import { CatalogState } from '../../../src/core/catalog-state.js';
import { createZaqarService, type CoreDiagnostic, type EngineDeps, type ZaqarEngine } from '../../../src/core/engine.js';
import type { CatalogEvent } from '../../../src/core/events.js';
import type { Json } from '../../../src/core/types.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { prng } from '../../fixtures/prng.js';

/** Random catalogue events over few names, with writers' clocks up to 30 s apart and short ttls. */
function randomEvents(seed: number, count: number): CatalogEvent[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const projects = ['p1', 'p2', 'weird\u0000project'];
  const queues = ['a', 'b', 'c'];
  const subscribers = ['http://x/1', 'http://x/2', 'mailto:a@b', 'http://x/3'];
  const events: CatalogEvent[] = [];
  let now = 1_700_000_000_000;
  for (let i = 0; i < count; i++) {
    now += Math.floor(rnd() * 20_000);
    const at = now - Math.floor(rnd() * 30_000);
    const base = { rid: `r${i}`, at, project: pick(projects), queue: pick(queues) };
    const id = `s${Math.floor(rnd() * 6)}`;
    const earlier = events[Math.floor(rnd() * events.length)];
    if (earlier !== undefined && rnd() < 0.1) {
      // Stored twice: a publisher retry after a lost confirm (same rid, a bit later).
      events.push(earlier);
      continue;
    }
    switch (Math.floor(rnd() * 8)) {
      case 0:
        events.push({ ...base, type: 'queue_create', metadata: { n: i } });
        break;
      case 1:
        events.push({ ...base, type: 'queue_delete' });
        break;
      case 2:
        events.push({ ...base, type: 'queue_metadata', metadata: { m: i, _schema: null } });
        break;
      case 3:
      case 4:
        events.push({
          ...base,
          type: 'subscription_create',
          subscription: { id: `s${i % 6}`, subscriber: pick(subscribers), ttl: 60 + Math.floor(rnd() * 120), options: { i }, ...(rnd() < 0.3 ? { websocket: true } : {}) },
        });
        break;
      case 5:
        events.push({ ...base, type: 'subscription_update', id, ...(rnd() < 0.5 ? { ttl: 60 + Math.floor(rnd() * 200) } : { subscriber: pick(subscribers) }) });
        break;
      case 6:
        events.push({ ...base, type: rnd() < 0.8 ? 'subscription_delete' : 'subscription_purge', id } as CatalogEvent);
        break;
      default:
        events.push({ rid: `r${i}`, at, type: 'barrier' });
    }
  }
  return events;
}

/** Everything a caller of the catalogue can observe, at a given time. */
function observe(state: CatalogState, now: number): Json {
  const out: Json[] = [];
  for (const project of ['p1', 'p2', 'weird\u0000project']) {
    out.push(state.queues(project).map((q) => [q.name, q.metadata, q.incarnation]));
    for (const queue of ['a', 'b', 'c']) {
      out.push(state.subscriptions(project, queue, now).map((s) => [s.id, s.subscriber, s.ttl, s.options, s.confirmed, s.createdAt, s.websocket ?? false]));
      out.push(state.webhooks(project, queue, now).map((s) => s.id));
    }
  }
  return out;
}

describe('CatalogState snapshots', () => {
  it('restored at any offset, then folding the rest, decides and answers as the full fold', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const events = randomEvents(seed, 300);
      const cut = 1 + ((seed * 37) % (events.length - 1));
      const full = new CatalogState();
      const before = new CatalogState();
      events.slice(0, cut).forEach((e, i) => before.apply(e, i));
      // Through JSON, as a backend stores it.
      const restored = new CatalogState();
      expect(restored.restore(JSON.parse(JSON.stringify(before.snapshot())) as Json)).toBe(true);
      // Read at once, by a reader whose clock is behind the latest writer's (skew < 60 s).
      const cutLast = Math.max(...events.slice(0, cut).map((e) => e.at));
      for (const dt of [-59_000, -30_000, 0]) expect(observe(restored, cutLast + dt)).toEqual(observe(before, cutLast + dt));
      const fullOutcomes = events.map((e, i) => full.apply(e, i)).slice(cut);
      const restoredOutcomes = events.slice(cut).map((e, i) => restored.apply(e, cut + i));
      expect(restoredOutcomes).toEqual(fullOutcomes);
      const last = Math.max(...events.map((e) => e.at));
      for (const dt of [-30_000, 0, 60_000, 600_000]) expect(observe(restored, last + dt)).toEqual(observe(full, last + dt));
    }
  });

  it('applies a record stored twice once: a repeated delete does not remove the queue created since', () => {
    const s = new CatalogState();
    const del = { type: 'queue_delete' as const, rid: 'del', at: 2, project: 'p', queue: 'q' };
    s.apply({ type: 'queue_create', rid: 'c1', at: 1, project: 'p', queue: 'q', metadata: {} }, 0);
    s.apply(del, 1);
    s.apply({ type: 'queue_create', rid: 'c2', at: 3, project: 'p', queue: 'q', metadata: { again: true } }, 2);
    expect(s.apply(del, 3)).toEqual({ type: 'ok' });
    expect(s.queue('p', 'q')?.metadata).toEqual({ again: true });
    // The window travels in the snapshot.
    const restored = new CatalogState();
    restored.restore(JSON.parse(JSON.stringify(s.snapshot())) as Json);
    restored.apply(del, 4);
    expect(restored.queue('p', 'q')?.metadata).toEqual({ again: true });
  });

  it('leaves out subscriptions long expired, and nothing else', () => {
    const s = new CatalogState();
    const sub = (id: string, ttl: number) => ({ id, subscriber: `http://h/${id}`, ttl, options: {} });
    s.apply({ type: 'queue_create', rid: 'a', at: 0, project: 'p', queue: 'q', metadata: { k: 1 } }, 0);
    s.apply({ type: 'subscription_create', rid: 'b', at: 0, project: 'p', queue: 'q', subscription: sub('old', 60) }, 1);
    s.apply({ type: 'subscription_create', rid: 'c', at: 100_000, project: 'p', queue: 'q', subscription: sub('young', 60) }, 2);
    s.apply({ type: 'barrier', rid: 'd', at: 125_000 }, 3);
    const doc = s.snapshot() as { subscriptions: { id: string }[]; queues: unknown[] };
    // "old" expired at 60 s, more than the 60 s margin before the last event (125 s); "young" is alive.
    expect(doc.subscriptions.map((x) => x.id)).toEqual(['young']);
    expect(doc.queues).toEqual([{ project: 'p', name: 'q', metadata: { k: 1 }, incarnation: 0 }]);
  });

  it('refuses a document that is not a snapshot, and keeps its state', () => {
    const s = new CatalogState();
    s.apply({ type: 'queue_create', rid: 'a', at: 0, project: 'p', queue: 'q', metadata: {} }, 0);
    for (const bad of [null, [], { v: 2, lastAt: 0, queues: [], subscriptions: [] }, { v: 1, lastAt: 0, queues: [{ project: 'p' }], subscriptions: [] }]) {
      expect(s.restore(bad as Json)).toBe(false);
    }
    expect(s.queues('p').map((q) => q.name)).toEqual(['q']);
  });
});

describe('a pod restored from a catalogue snapshot', () => {
  const ctx = { project: 'p', clientId: null };
  const pods: ZaqarEngine[] = [];
  async function pod(backend: MemoryBackend, clock: FakeClock, extra: Partial<EngineDeps> = {}): Promise<ZaqarEngine> {
    const s = createZaqarService({ backend, clock: clock.now, idleQueueMs: 0, ...extra });
    await s.start();
    pods.push(s);
    return s;
  }
  async function closeAll(): Promise<void> {
    for (const p of pods.splice(0)) await p.close();
  }

  it('starts from the snapshot and folds only the records after it', async () => {
    const clock = new FakeClock();
    const backend = new MemoryBackend({ clock: clock.now });
    const a = await pod(backend, clock);
    await a.createQueue(ctx, 'kept', { _default_message_ttl: 300 });
    await a.createQueue(ctx, 'gone');
    const sub = await a.createSubscription(ctx, 'kept', { subscriber: 'http://hook/1', ttl: 600 });
    const offset = await a.snapshotCatalog();
    expect(offset).not.toBeNull();
    expect(await a.snapshotCatalog()).toBeNull(); // nothing new since
    await a.deleteQueue(ctx, 'gone');
    await a.createQueue(ctx, 'later');
    const b = await pod(backend, clock);
    expect(b.catalogOrigin.restoredOffset).toBe(offset);
    // The snapshot's records are not folded again: only the later ones and b's own barrier.
    expect(b.catalogOrigin.recordsFolded).toBe(3);
    expect((await b.listQueues(ctx, {})).queues.map((q) => q.name)).toEqual(['kept', 'later']);
    expect(await b.getQueue(ctx, 'kept')).toEqual({ _default_message_ttl: 300 });
    expect((await b.getSubscription(ctx, 'kept', sub.id)).subscriber).toBe('http://hook/1');
    // Both pods decide the next catalogue write alike.
    expect(await b.createQueue(ctx, 'kept')).toBe(false);
    await closeAll();
  });

  it('keeps every queue when retention removed the head of the catalogue log, and says so when nothing covers it', async () => {
    for (const snapshots of [true, false]) {
      const clock = new FakeClock();
      const backend = new MemoryBackend({ clock: clock.now, retentionMs: 3_600_000 });
      const policy = { records: snapshots ? 1000 : 0 };
      const a = await pod(backend, clock, { catalogSnapshots: policy });
      for (let i = 0; i < 600; i++) await a.createQueue(ctx, `old-${i}`);
      if (snapshots) await a.snapshotCatalog();
      clock.advance(7200); // the first 600 records are now past retention
      for (let i = 0; i < 1100; i++) await a.createQueue(ctx, `new-${i}`);
      const first = await backend.firstOffset({ kind: 'catalog' });
      expect(first).toBeGreaterThan(600); // the memory backend trims every 1024 appends
      const seen: CoreDiagnostic[] = [];
      const b = await pod(backend, clock, { catalogSnapshots: policy, diagnostics: (d) => seen.push(d) });
      const count = (await b.listQueues(ctx, { limit: 1 })).count;
      if (snapshots) {
        expect(count).toBe(1700);
        expect(seen.map((d) => d.type)).toEqual(['catalog_restored']);
      } else {
        expect(count).toBeLessThan(1700);
        expect(seen).toContainEqual({ type: 'catalog_head_missing', expected: 0, first });
      }
      await closeAll();
    }
  });

  it('ignores a snapshot it cannot read and folds the whole log instead', async () => {
    const clock = new FakeClock();
    const backend = new MemoryBackend({ clock: clock.now });
    const a = await pod(backend, clock);
    await a.createQueue(ctx, 'q');
    await backend.saveCatalogSnapshot({ offset: 1, state: { v: 99 } });
    const seen: CoreDiagnostic[] = [];
    const b = await pod(backend, clock, { diagnostics: (d) => seen.push(d) });
    expect(b.catalogOrigin.restoredOffset).toBeNull();
    expect((await b.listQueues(ctx, {})).queues.map((q) => q.name)).toEqual(['q']);
    expect(seen[0]).toEqual({ type: 'catalog_snapshot_invalid', offset: 1 });
    await closeAll();
  });

  it('writes snapshots by itself: after enough records, at boot over an uncovered log, and when it stops', async () => {
    const clock = new FakeClock();
    const backend = new MemoryBackend({ clock: clock.now });
    const a = await pod(backend, clock, { catalogSnapshots: { records: 5, checkEveryMs: 10 } });
    expect(await backend.loadCatalogSnapshot()).toBeNull(); // only its own barrier so far
    for (let i = 0; i < 6; i++) await a.createQueue(ctx, `q${i}`);
    await expect.poll(async () => (await backend.loadCatalogSnapshot())?.offset, { timeout: 2000 }).toBeGreaterThanOrEqual(5);
    await a.createQueue(ctx, 'last');
    await a.close();
    const written = await backend.loadCatalogSnapshot();
    expect(written?.offset).toBe(7);

    // A log written by others with no snapshot covering it: the booting pod writes one at once.
    const fresh = new MemoryBackend({ clock: clock.now });
    const c = await pod(fresh, clock, { catalogSnapshots: { records: 0 } });
    await c.createQueue(ctx, 'x');
    const d = await pod(fresh, clock, { catalogSnapshots: { records: 1000, checkEveryMs: 60_000 } });
    await expect.poll(async () => (await fresh.loadCatalogSnapshot())?.offset, { timeout: 2000 }).toBe(2);
    expect(d.catalogOrigin.restoredOffset).toBeNull();
    await closeAll();
  });
});
