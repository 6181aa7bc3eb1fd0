/**
 * The reattach extension over real sockets (docs/protocol-extensions.md): opt-in `marker` on
 * subscription_create, replay after the response, then live; the gap signal; clients that do
 * not opt in never see a replayed message nor the extra fields.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TestWsClient } from '../fixtures/ws-client.js';
import { CLIENT_A, PROJECT, startWs, type WsHarness } from '../fixtures/ws-harness.js';

const headers = { 'Client-ID': CLIENT_A, 'X-Project-ID': PROJECT };
const ctx = { project: PROJECT, clientId: CLIENT_A };

interface NotificationFrame {
  readonly ttl: number;
  readonly body: unknown;
  readonly Message_Type: string;
  readonly queue_name: string;
  readonly message_id?: string;
  readonly marker?: string;
}

let h: WsHarness;
afterEach(async () => {
  await h.close();
});

function subscribe(c: TestWsClient, body: Record<string, unknown>) {
  return c.request({ action: 'subscription_create', headers, body: { queue_name: 'tripleo', ttl: 3600, ...body } });
}

async function notifications(c: TestWsClient, n: number): Promise<NotificationFrame[]> {
  const out: NotificationFrame[] = [];
  for (let i = 0; i < n; i++) out.push((await c.nextValue()) as NotificationFrame);
  return out;
}

describe('reattach over WebSocket', () => {
  it('replays what was missed after the marker, after the response, then continues live', async () => {
    h = await startWs();
    const c1 = await h.connect();
    const r1 = await subscribe(c1, { marker: 'next' });
    expect(r1.headers.status).toBe(201);
    expect(r1.body).toMatchObject({ message: 'Subscription tripleo created.', replayed: 0, gap: false });
    await h.service.postMessages(ctx, 'tripleo', [{ body: { step: 1 } }]);
    const [first] = await notifications(c1, 1);
    expect(Object.keys(first ?? {})).toEqual(['ttl', 'body', 'Message_Type', 'queue_name', 'message_id', 'marker']);
    await c1.close();

    await h.service.postMessages(ctx, 'tripleo', [{ body: { step: 2 } }, { body: { step: 3 } }]);
    const c2 = await h.connect();
    const r2 = await subscribe(c2, { marker: first?.marker });
    expect(r2.headers.status).toBe(201);
    expect(r2.body).toMatchObject({ replayed: 2, gap: false });
    const replayed = await notifications(c2, 2);
    expect(replayed.map((n) => n.body)).toEqual([{ step: 2 }, { step: 3 }]);
    expect((r2.body as { marker: string }).marker).toBe(replayed[1]?.marker);
    await h.service.postMessages(ctx, 'tripleo', [{ body: { step: 4 } }]);
    expect((await notifications(c2, 1)).map((n) => n.body)).toEqual([{ step: 4 }]);
    expect(await c2.silentFor(100)).toBe(true);
  });

  it('reattaches without a gap from the marker of an attach to a queue that was still empty', async () => {
    h = await startWs();
    for (const start of ['next', 'first']) {
      const queue = `empty-${start}`;
      const c1 = await h.connect();
      const r1 = await c1.request({ action: 'subscription_create', headers, body: { queue_name: queue, ttl: 3600, marker: start } });
      expect(r1.body).toMatchObject({ replayed: 0, gap: false });
      const marker = (r1.body as { marker: string }).marker;
      await c1.close();
      // The queue's first records come after that answer (the embedded backend numbers them from the clock).
      await h.service.postMessages(ctx, queue, [{ body: 1 }, { body: 2 }]);
      const c2 = await h.connect();
      const r2 = await c2.request({ action: 'subscription_create', headers, body: { queue_name: queue, ttl: 3600, marker } });
      expect(r2.body, start).toMatchObject({ replayed: 2, gap: false });
      expect((await notifications(c2, 2)).map((n) => n.body)).toEqual([1, 2]);
      await c2.close();
    }
  });

  it('replays everything still held with "first"', async () => {
    h = await startWs();
    await h.service.postMessages(ctx, 'tripleo', [{ body: 'a' }, { body: 'b' }]);
    const c = await h.connect();
    const r = await subscribe(c, { marker: 'first' });
    expect(r.body).toMatchObject({ replayed: 2, gap: false });
    expect((await notifications(c, 2)).map((n) => n.body)).toEqual(['a', 'b']);
  });

  it('signals a gap when ttl removed part of the range, and replays the rest', async () => {
    h = await startWs();
    const c1 = await h.connect();
    await subscribe(c1, { marker: 'next' });
    await h.service.postMessages(ctx, 'tripleo', [{ body: 'seen' }]);
    const [seen] = await notifications(c1, 1);
    await c1.close();
    await h.service.postMessages(ctx, 'tripleo', [{ body: 'short', ttl: 60 }, { body: 'long', ttl: 600 }]);
    h.clock.advance(120);
    const c2 = await h.connect();
    const r = await subscribe(c2, { marker: seen?.marker });
    expect(r.body).toMatchObject({ replayed: 1, gap: true });
    expect((await notifications(c2, 1)).map((n) => n.body)).toEqual(['long']);
  });

  it('never replays to, nor changes the shape for, a client that did not opt in', async () => {
    h = await startWs();
    await h.service.postMessages(ctx, 'tripleo', [{ body: 'old' }]);
    const c = await h.connect();
    const r = await subscribe(c, {});
    expect(r.body).toEqual({ subscription_id: expect.any(String) as string, message: 'Subscription tripleo created.' });
    expect(await c.silentFor(100)).toBe(true);
    await h.service.postMessages(ctx, 'tripleo', [{ body: 'new' }]);
    const [n] = await notifications(c, 1);
    expect(n).toEqual({ ttl: 3600, body: 'new', Message_Type: 'Notification', queue_name: 'tripleo' });
  });

  it('rejects a malformed marker, and a marker on a webhook subscription, leaving no subscription', async () => {
    h = await startWs();
    const c = await h.connect();
    const bad = await subscribe(c, { marker: 'not-a-marker' });
    expect(bad.headers.status).toBe(400);
    expect(bad.body).toEqual({ exception: 'The marker is not valid.', error: null });
    const hook = await subscribe(c, { marker: 'first', subscriber: 'http://127.0.0.1:9/hook' });
    expect(hook.headers.status).toBe(400);
    expect(await h.service.listSubscriptions(ctx, 'tripleo', {})).toEqual([]);
  });

  it('loses nothing and repeats nothing across a reattach while posts keep arriving', async () => {
    h = await startWs();
    const received: unknown[] = [];
    let marker = 'first';
    const producer = (async () => {
      for (let i = 0; i < 300; i++) {
        await h.service.postMessages(ctx, 'tripleo', [{ body: i }]);
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    for (let round = 0; round < 6; round++) {
      const c = await h.connect();
      const r = await subscribe(c, { marker });
      expect(r.body).toMatchObject({ gap: false });
      const until = Date.now() + 15;
      while (Date.now() < until) {
        const n = (await c.nextValue(1000).catch(() => null)) as NotificationFrame | null;
        if (n === null) break;
        received.push(n.body);
        marker = n.marker ?? marker;
      }
      await c.close();
    }
    await producer;
    const last = await h.connect();
    await subscribe(last, { marker });
    while (received.length < 300) received.push(((await last.nextValue()) as NotificationFrame).body);
    expect(received).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});
