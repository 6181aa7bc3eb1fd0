/**
 * Live coalescing (`_coalesce` queue metadata, docs/protocol-extensions.md §3) over real
 * sockets on a whole app, run on each backend by `coalesce.test.ts` and
 * `coalesce.rabbitmq.test.ts`: a burst of the same event reaches each WebSocket subscriber as
 * one (the latest), plain and reattach subscribers alike; storage, listing and replay keep
 * every message; a bad `_coalesce` is a 400 and stores nothing.
 */
import { describe, expect, it } from 'vitest';
import { TestWsClient } from '../fixtures/ws-client.js';

export const COALESCE_PROJECT = 'proj-coalesce';
const headers = { 'Client-ID': '7b3e1f20-5c4d-4e6f-8a9b-0c1d2e3f4a5b', 'X-Project-ID': COALESCE_PROJECT };
const LIST = { name: 'invalidateCache', value: { type: 'processes', id: 'LIST' } };
const ENGINE = { name: 'invalidateCache', value: { type: 'engineStatus' } };

export interface CoalesceTarget {
  readonly restPort: number;
  readonly wsPort: number;
}

interface Frame {
  readonly body?: unknown;
  readonly marker?: string;
  readonly headers?: { status?: number };
  readonly Message_Type?: string;
}

async function rest(t: CoalesceTarget, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${t.restPort}${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function subscriber(t: CoalesceTarget, queue: string, marker?: string): Promise<TestWsClient> {
  const c = await TestWsClient.connect(`ws://127.0.0.1:${t.wsPort}/`);
  const r = await c.request({ action: 'subscription_create', headers, body: { queue_name: queue, ttl: 3600, ...(marker === undefined ? {} : { marker }) } });
  expect(r.headers.status).toBe(201);
  return c;
}

/** Every notification frame until `quietMs` pass without one. */
async function drain(c: TestWsClient, quietMs = 600): Promise<Frame[]> {
  const out: Frame[] = [];
  for (;;) {
    let f: Frame;
    try {
      f = (await c.nextValue(quietMs)) as Frame;
    } catch {
      return out;
    }
    if (f.Message_Type === 'Notification') out.push(f);
  }
}

export function coalesceSuite(name: string, target: () => CoalesceTarget): void {
  describe(`live coalescing (${name})`, { timeout: 60_000 }, () => {
    it('delivers a burst of one event once, the latest, to plain and reattach subscribers; storage keeps all', async () => {
      const t = target();
      expect((await rest(t, 'PUT', '/v2/queues/events', { _coalesce: { window_ms: 200, key: '/value' } })).status).toBe(201);
      const plain = await subscriber(t, 'events');
      const tracking = await subscriber(t, 'events', 'next');
      const burst = Array.from({ length: 50 }, (_, i) => ({ body: i === 49 ? { ...LIST, last: true } : LIST, ttl: 600 }));
      // One post of 50 identical events plus one other kind, then 50 more one by one.
      expect((await rest(t, 'POST', '/v2/queues/events/messages', { messages: [...burst, { body: ENGINE, ttl: 600 }] })).status).toBe(201);
      for (let i = 0; i < 50; i++) expect((await rest(t, 'POST', '/v2/queues/events/messages', { messages: [{ body: i === 49 ? { ...LIST, final: true } : LIST, ttl: 600 }] })).status).toBe(201);
      const got = [await drain(plain), await drain(tracking)];
      for (const frames of got) {
        const bodies = frames.map((f) => f.body as { value: { type: string }; final?: boolean });
        // Far fewer than 101 deliveries; the engineStatus event and the very last LIST survive.
        expect(bodies.length).toBeLessThan(15);
        expect(bodies.filter((b) => b.value.type === 'engineStatus')).toHaveLength(1);
        expect(bodies.at(-1)).toMatchObject({ final: true });
      }
      // Markers still only increase for the client that tracks them.
      const markers = (got[1] ?? []).map((f) => BigInt(f.marker ?? '0'));
      expect(markers).toEqual([...markers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      // Storage, listing and replay are unchanged: all 101 are there.
      const stats = await rest(t, 'GET', '/v2/queues/events/stats');
      expect((stats.json as { messages: { total: number } }).messages.total).toBe(101);
      const replayed = await subscriber(t, 'events', 'first');
      expect(await drain(replayed, 800)).toHaveLength(101);
      for (const c of [plain, tracking, replayed]) await c.close();
    });

    it('leaves a queue without _coalesce alone, and applies a rule set later at once', async () => {
      const t = target();
      const c = await subscriber(t, 'plain');
      for (let i = 0; i < 5; i++) expect((await rest(t, 'POST', '/v2/queues/plain/messages', { messages: [{ body: LIST }] })).status).toBe(201);
      expect(await drain(c)).toHaveLength(5);
      const patch = await fetch(`http://127.0.0.1:${t.restPort}/v2/queues/plain`, {
        method: 'PATCH',
        headers: { ...headers, 'Content-Type': 'application/openstack-messaging-v2.0-json-patch' },
        body: JSON.stringify([{ op: 'add', path: '/metadata/_coalesce', value: { window_ms: 200, key: '/name' } }]),
      });
      expect(patch.status).toBe(200);
      expect((await rest(t, 'POST', '/v2/queues/plain/messages', { messages: Array.from({ length: 5 }, () => ({ body: LIST })) })).status).toBe(201);
      expect(await drain(c)).toHaveLength(1);
      await c.close();
    });

    it('refuses a malformed _coalesce with a 400 that says what is expected', async () => {
      const t = target();
      const r = await rest(t, 'PUT', '/v2/queues/badrule', { _coalesce: { window_ms: 0, key: 'name' } });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({
        title: 'Invalid API request',
        description: '_coalesce must be an object {"window_ms": <integer 1..60000>, "key": "<JSON pointer into the body, e.g. /name>"}.',
      });
      const listed = (await rest(t, 'GET', '/v2/queues')).json as { queues: { name: string }[] };
      expect(listed.queues.map((q) => q.name)).not.toContain('badrule');
    });
  });
}
