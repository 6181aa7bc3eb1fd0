/**
 * Behind a load balancer, a client's next request lands on any pod, possibly one whose fold is
 * a few milliseconds behind the pod that acknowledged its last write. Negative answers ("no
 * such queue / message / claim / subscription") must not contradict an acknowledged write: the
 * pod catches up with the log before giving one. Made deterministic with a pod whose every
 * delivery arrives 40 ms late.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/backends/memory/index.js';
import { createZaqarService, type ZaqarEngine } from '../../../src/core/engine.js';
import type { LogEvent } from '../../../src/core/events.js';
import type { LogRecord, LogRef, Tail, TailHandler, TailStart } from '../../../src/core/ports.js';
import { DelegatingBackend } from '../../fixtures/delegating-backend.js';

const LAG_MS = 40;

/** The shared backend as a lagging pod sees it: every record is delivered LAG_MS late, in order. */
class LateView extends DelegatingBackend {
  /** Barriers this pod appended to the catalogue. */
  catalogBarriers = 0;

  override append(log: LogRef, event: LogEvent): Promise<void> {
    if (log.kind === 'catalog' && event.type === 'barrier') this.catalogBarriers++;
    return super.append(log, event);
  }

  override tail(log: LogRef, start: TailStart, handler: TailHandler): Tail {
    let closed = false;
    const inner = super.tail(log, start, {
      onRecord: (r: LogRecord) => {
        setTimeout(() => {
          if (!closed) handler.onRecord(r);
        }, LAG_MS);
      },
    });
    return {
      close: () => {
        closed = true;
        inner.close();
      },
    };
  }
}

const ctx = { project: 'p', clientId: '3381af92-2b9e-11e3-b191-71861300734c' };
const pods: ZaqarEngine[] = [];

async function twoPods(): Promise<{ fast: ZaqarEngine; late: ZaqarEngine; view: LateView }> {
  const shared = new MemoryBackend();
  const view = new LateView(shared);
  const fast = createZaqarService({ backend: shared });
  const late = createZaqarService({ backend: view });
  pods.push(fast, late);
  await fast.start();
  await late.start();
  return { fast, late, view };
}

afterEach(async () => {
  for (const p of pods.splice(0)) await p.close();
});

describe('a request on a lagging pod right after a write on another', () => {
  it('sees the queue just created: its metadata, and its defaults applied to a post', async () => {
    const { fast, late } = await twoPods();
    await fast.createQueue(ctx, 'q', { _default_message_ttl: 120 });
    expect(await late.getQueue(ctx, 'q')).toEqual({ _default_message_ttl: 120 });
    await fast.createQueue(ctx, 'q2', { _default_message_ttl: 90 });
    const [id] = await late.postMessages(ctx, 'q2', [{ body: 'x' }]);
    expect((await fast.getMessage(ctx, 'q2', id ?? '')).ttl).toBe(90);
  });

  it('finds the message, the messages and the claim just made', async () => {
    const { fast, late } = await twoPods();
    const [a, b] = await fast.postMessages(ctx, 'q', [{ body: 1 }, { body: 2 }]);
    expect((await late.getMessage(ctx, 'q', a ?? '')).body).toBe(1);
    const [c] = await fast.postMessages(ctx, 'q', [{ body: 3 }]);
    expect((await late.getMessages(ctx, 'q', [a ?? '', b ?? '', c ?? ''])).map((m) => m.body)).toEqual([1, 2, 3]);
    const claim = await fast.createClaim(ctx, 'q', { limit: 1 });
    expect((await late.getClaim(ctx, 'q', claim.claimId)).messages.map((m) => m.id)).toEqual([a]);
  });

  it('deletes in a queue it had not seen yet', async () => {
    const { fast, late } = await twoPods();
    const [id] = await fast.postMessages(ctx, 'del', [{ body: 'x' }]);
    await late.deleteMessage(ctx, 'del', id ?? '');
    expect((await fast.listMessages(ctx, 'del', { echo: true })).messages).toEqual([]);

    const ids = await fast.postMessages(ctx, 'del-many', [{ body: 1 }, { body: 2 }]);
    await late.deleteMessages(ctx, 'del-many', ids);
    expect((await fast.listMessages(ctx, 'del-many', { echo: true })).messages).toEqual([]);

    await fast.createQueue(ctx, 'gone');
    await late.deleteQueue(ctx, 'gone');
    expect(await fast.getQueue(ctx, 'gone')).toBeNull();
  });

  it('finds the subscription just created', async () => {
    const { fast, late } = await twoPods();
    const sub = await fast.createSubscription(ctx, 'q', { subscriber: 'http://hook.example/1' });
    expect((await late.getSubscription(ctx, 'q', sub.id)).subscriber).toBe('http://hook.example/1');
  });

  it('catches up before a list or stats answer that a transport turns into 404 (WebSocket)', async () => {
    const { fast, late } = await twoPods();
    await fast.createQueue(ctx, 'fresh');
    expect((await late.queueStats(ctx, 'fresh', { confirmMissing: true })).exists).toBe(true);
    await fast.createQueue(ctx, 'fresh2');
    expect((await late.listMessages(ctx, 'fresh2', { confirmMissing: true })).queueExists).toBe(true);
  });

  it('answers what clients poll (list, claim, pop, stats) from its fold as it is: no catalogue write per poll', async () => {
    const { late, view } = await twoPods();
    const before = view.catalogBarriers;
    for (let i = 0; i < 25; i++) {
      expect((await late.listMessages(ctx, 'not-yet', {})).queueExists).toBe(false);
      expect((await late.createClaim(ctx, 'not-yet', {})).messages).toEqual([]);
      expect(await late.popMessages(ctx, 'not-yet', 1)).toEqual([]);
      expect((await late.queueStats(ctx, 'not-yet')).exists).toBe(false);
    }
    expect(view.catalogBarriers - before).toBe(0);
  });

  it('still answers "not found" for what does not exist, after one shared catch-up', async () => {
    const { late, view } = await twoPods();
    const before = view.catalogBarriers;
    const misses = await Promise.all([late.getQueue(ctx, 'nope'), late.getQueue(ctx, 'nope2'), late.getMessages(ctx, 'nope', ['x'])]);
    expect(misses).toEqual([null, null, []]);
    expect(view.catalogBarriers - before).toBe(1);
    await expect(late.getSubscription(ctx, 'nope', 'id')).rejects.toMatchObject({ status: 404 });
  });
});
