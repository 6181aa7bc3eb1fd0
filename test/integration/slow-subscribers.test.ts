/**
 * Many slow subscribers at once (issue 12): every subscriber that stops reading is cut off
 * with 1008 once its send buffer passes the bound, which bounds what the pod holds for it;
 * the subscribers that read meanwhile get every message, in order. Counts, not times.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/core/types.js';
import type { TestWsClient } from '../fixtures/ws-client.js';
import { frame, PROJECT, startWs, type WsHarness } from '../fixtures/ws-harness.js';
import { until } from '../fixtures/rabbitmq-helpers.js';

const CTX: RequestContext = { project: PROJECT, clientId: null };
const SLOW = 20;
const FAST = 5;
/** Posts are sent until every slow subscriber is cut off, at most this many. */
const MAX_POSTS = 600;
const BUFFER_BOUND = 256 * 1024;

let h: WsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('many slow subscribers', { timeout: 120_000 }, () => {
  it('cuts off each one that stops reading, and the others receive everything in order', async () => {
    const s = (h = await startWs({ ws: { maxBufferedBytes: BUFFER_BOUND } }));
    const subscribe = async (): Promise<TestWsClient> => {
      const c = await s.connect();
      expect((await c.request(frame('subscription_create', { queue_name: 'firehose', ttl: 3600 }))).headers.status).toBe(201);
      return c;
    };
    const slow: TestWsClient[] = [];
    for (let i = 0; i < SLOW; i++) slow.push(await subscribe());
    const fast: TestWsClient[] = [];
    for (let i = 0; i < FAST; i++) fast.push(await subscribe());
    const received = fast.map(() => [] as number[]);
    fast.forEach((c, i) =>
      c.socket.on('message', (data) => {
        const v = JSON.parse(String(data)) as { body?: { n?: number } };
        if (typeof v.body?.n === 'number') received[i]?.push(v.body.n);
      }),
    );
    for (const c of slow) c.socket.pause();
    const closes = slow.map((c) => c.closed);

    // The kernel's socket buffers take megabytes before the server's own buffer grows.
    const big = 'x'.repeat(100 * 1024);
    const cutOffs = (): number => s.logs.filter((l) => l['msg'] === 'ws: slow consumer closed').length;
    let POSTS = 0;
    while (POSTS < MAX_POSTS && cutOffs() < SLOW) {
      await s.service.postMessages(CTX, 'firehose', [{ body: { n: POSTS, big } }]);
      POSTS++;
      if (POSTS % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(cutOffs()).toBe(SLOW);
    for (const c of slow) c.socket.resume();
    for (const closed of await Promise.all(closes)) expect(closed).toEqual({ code: 1008, reason: 'Send buffer limit exceeded (slow consumer).' });

    await until(() => received.every((r) => r.length === POSTS), 30_000, 'the readers to get every message');
    for (const r of received) expect(r).toEqual(Array.from({ length: POSTS }, (_, i) => i));
    await until(() => s.server.connectionCount === FAST);
    expect(cutOffs()).toBe(SLOW); // nobody that reads was cut off
  });
});
