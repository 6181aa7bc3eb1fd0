/**
 * Regression tests of the findings of a code review of src/core: each failed before its fix
 * (duplicated records applied twice, dead-letter moves lost, a post racing a deletion
 * resurrected, writes sharing a request id never settling, pods disagreeing after folding from
 * different heads).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { createZaqarService, type ZaqarEngine } from '../../src/core/engine.js';
import { errors } from '../../src/core/errors.js';
import type { LogEvent, QueueEvent, Unstamped } from '../../src/core/events.js';
import type { Backend, LogRef } from '../../src/core/ports.js';
import { QueueState } from '../../src/core/queue-state.js';
import { BATCH } from '../../src/core/folded-log.js';
import type { RequestContext } from '../../src/core/types.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const CLIENT = '3381af92-2b9e-11e3-b191-71861300734c';
const ctx: RequestContext = { project: 'review', clientId: CLIENT };

/** A memory backend whose appends can be made to fail for chosen records. */
class FlakyBackend extends MemoryBackend {
  failIf: (log: LogRef, event: LogEvent) => boolean = () => false;
  /** ms before a failing append rejects (so concurrent writes overlap). */
  failAfterMs = 0;
  override async append(log: LogRef, event: LogEvent): Promise<void> {
    if (this.failIf(log, event)) {
      if (this.failAfterMs > 0) await new Promise((r) => setTimeout(r, this.failAfterMs));
      throw errors.brokerUnavailable('injected append failure');
    }
    return super.append(log, event);
  }
}

const open: ZaqarEngine[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function engine(backend: Backend, clock: FakeClock, readBackTimeoutMs = 2000): Promise<ZaqarEngine> {
  const s = createZaqarService({ backend, clock: clock.now, readBackTimeoutMs });
  await s.start();
  open.push(s);
  return s;
}

describe('review: core', () => {
  it('DLQ: a message moved out by a claim is not lost when the dead-letter write fails', async () => {
    const clock = new FakeClock();
    const backend = new FlakyBackend();
    const s = await engine(backend, clock);
    await s.createQueue(ctx, 'src', { _max_claim_count: 1, _dead_letter_queue: 'dlq' });
    await s.createQueue(ctx, 'dlq');
    const [id] = await s.postMessages(ctx, 'src', [{ body: 'precious' }]);
    const c1 = await s.createClaim(ctx, 'src', {});
    expect(c1.messages.map((m) => m.id)).toEqual([id]);
    await s.deleteClaim(ctx, 'src', c1.claimId);

    // The broker refuses the dead-letter post (nack / confirm timeout / outage blip).
    backend.failIf = (log, e) => log.kind === 'queue' && log.queue === 'dlq' && e.type === 'post';
    await expect(s.createClaim(ctx, 'src', {})).rejects.toMatchObject({ status: 503 });
    backend.failIf = () => false;

    const inSrc = await s.getMessages(ctx, 'src', [id!]);
    const inDlq = await s.getMessages(ctx, 'dlq', [id!]);
    // The message must still be somewhere: the source queue or its dead-letter queue.
    expect(inSrc.length + inDlq.length).toBe(1);
  });

  it('a post racing a queue deletion does not resurrect in the re-created queue', async () => {
    const clock = new FakeClock();
    const s = await engine(new MemoryBackend(), clock);
    await s.createQueue(ctx, 'q');
    await s.postMessages(ctx, 'q', [{ body: 'before' }]);
    // Delete and post concurrently (two clients, or two pods).
    const del = s.deleteQueue(ctx, 'q');
    const post = s.postMessages(ctx, 'q', [{ body: 'racing' }]);
    await Promise.all([del, post]);
    expect(await s.getQueue(ctx, 'q')).toBeNull(); // the queue is gone…

    await s.createQueue(ctx, 'q'); // …and a new, empty queue of that name is created
    const listed = await s.listMessages(ctx, 'q', { echo: true });
    expect(listed.messages.map((m) => m.body)).toEqual([]);
  });

  it('two concurrent writes with the same rid (a producer re-publishing one message_id) both settle', async () => {
    const clock = new FakeClock();
    const backend = new FlakyBackend();
    const s = await engine(backend, clock, 300);
    await s.createQueue(ctx, 'ingress-q');
    backend.failAfterMs = 20;
    // Both posts may go in one group-commit record (a batch): that append fails too.
    backend.failIf = (log, e) => log.kind === 'queue' && (e.type === 'post' || (e.type as string) === BATCH);
    const settled: string[] = [];
    const a = s.ingest({ project: ctx.project, queue: 'ingress-q', payload: { body: 1 }, messageId: 'm-1' }).then(
      () => settled.push('a ok'),
      () => settled.push('a failed'),
    );
    const b = s.ingest({ project: ctx.project, queue: 'ingress-q', payload: { body: 1 }, messageId: 'm-1' }).then(
      () => settled.push('b ok'),
      () => settled.push('b failed'),
    );
    // Far beyond the 300 ms read-back timeout: every write must have settled by now.
    await Promise.race([Promise.all([a, b]), new Promise((r) => setTimeout(r, 1500))]);
    expect(settled.sort()).toEqual(['a failed', 'b failed']);
  });
});

describe('review: fold determinism', () => {
  /**
   * Two pods fold the same log but from different first records (retention trimmed the head
   * between their opens, or one reopened an evicted queue later). Writers' clocks are a few
   * hundred ms apart. The pods must still reach the same decisions.
   */
  it('pods folding from different heads agree on a claim_update near claim expiry', () => {
    const T = Date.UTC(2026, 0, 1);
    const log: QueueEvent[] = [];
    let n = 0;
    const ev = (e: Unstamped<QueueEvent> & { readonly at: number }): void => {
      log.push({ ...e, rid: `r${n++}` } as unknown as QueueEvent);
    };
    ev({ type: 'barrier', at: T });
    ev({ type: 'post', at: T + 500, clientId: null, messages: [{ id: 'm', body: 1, ttl: 3600, delay: 0 }] });
    ev({ type: 'claim', at: T + 600, claimId: 'C', ttl: 60, grace: 60, limit: 10, maxClaimCount: null });
    // Claim C expires at T + 60_600. Traffic every 600 ms keeps both pods sweeping.
    for (let t = T + 1200; t <= T + 60_000; t += 600) ev({ type: 'barrier', at: t });
    // A pod whose clock is 300 ms ahead writes just after C's expiry…
    ev({ type: 'barrier', at: T + 60_700 });
    // …then the claimant (on a pod with an accurate clock) renews C just before it expires.
    ev({ type: 'claim_update', at: T + 60_500, claimId: 'C', ttl: 300, grace: 60 });
    // A second consumer claims.
    ev({ type: 'claim', at: T + 61_000, claimId: 'D', ttl: 60, grace: 60, limit: 10, maxClaimCount: null });

    const fold = (from: number): string[] => {
      const s = new QueueState();
      const out: string[] = [];
      log.forEach((e, offset) => {
        if (offset < from) return;
        const o = s.apply(e, offset);
        if (e.type === 'claim_update' || e.type === 'claim') out.push(`${e.type}:${JSON.stringify(o)}`);
      });
      return out.slice(-2); // the renewal and the second claim
    };
    const podA = fold(0); // folded from the log's first record
    const podB = fold(1); // opened after the barrier at offset 0 was trimmed
    expect(podB).toEqual(podA);
  });
});

describe('review: duplicated records (publisher retry after a lost confirm)', () => {
  /**
   * RabbitMqBackend#appendTo re-publishes once on a new channel when the publisher channel dies
   * before the confirm, "a duplicate, if the first write was stored after all, is dropped by the
   * fold (rid)". The fold drops repeated rids only for `post`. Simulate the stored-twice case.
   */
  class DuplicatingBackend extends MemoryBackend {
    duplicate: (event: LogEvent) => boolean = () => false;
    override async append(log: LogRef, event: LogEvent): Promise<void> {
      await super.append(log, event);
      if (this.duplicate(event)) await super.append(log, event);
    }
  }

  it('a pop stored twice does not silently remove more messages than it returned', async () => {
    const clock = new FakeClock();
    const backend = new DuplicatingBackend();
    const s = await engine(backend, clock);
    await s.postMessages(ctx, 'dup', [{ body: 1 }, { body: 2 }, { body: 3 }]);
    backend.duplicate = (e) => e.type === 'pop';
    const popped = await s.popMessages(ctx, 'dup', 1);
    backend.duplicate = () => false;
    expect(popped.map((m) => m.body)).toEqual([1]);
    const left = await s.listMessages(ctx, 'dup', { echo: true });
    expect(left.messages.map((m) => m.body)).toEqual([2, 3]);
  });

  it('a claim stored twice does not claim a second, invisible batch', async () => {
    const clock = new FakeClock();
    const backend = new DuplicatingBackend();
    const s = await engine(backend, clock);
    await s.postMessages(ctx, 'dupc', [{ body: 1 }, { body: 2 }]);
    backend.duplicate = (e) => e.type === 'claim';
    const c = await s.createClaim(ctx, 'dupc', { limit: 1 });
    backend.duplicate = () => false;
    expect(c.messages.map((m) => m.body)).toEqual([1]);
    const free = await s.listMessages(ctx, 'dupc', { echo: true });
    expect(free.messages.map((m) => m.body)).toEqual([2]);
  });
});
