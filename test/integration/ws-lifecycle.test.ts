/**
 * Connection lifecycle (reference §3.7, style point 18): ordering under async handlers,
 * inbound flow control, ping/pong liveness, slow consumers, logging, shutdown.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestContext, ZaqarService } from '../../src/core/types.js';
import { TestWsClient, type ResponseLike } from '../fixtures/ws-client.js';
import { frame, PROJECT, startWs, type HarnessOptions, type WsHarness } from '../fixtures/ws-harness.js';

const CTX: RequestContext = { project: PROJECT, clientId: null };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Every async service call takes a random 0..maxMs longer, or fails as `fail` says. */
function jittered(maxMs: number, fail: Partial<Record<keyof ZaqarService, Error>> = {}): (s: ZaqarService) => ZaqarService {
  return (s) =>
    new Proxy(s, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (prop === 'subscriptionAlive' || prop === 'liveSubscriptions' || prop === 'healthy' || prop === 'coalescing') return fn.bind(target);
        return async (...args: unknown[]) => {
          await sleep(Math.random() * maxMs);
          const error = fail[prop as keyof ZaqarService];
          if (error !== undefined) throw error;
          return fn.apply(target, args);
        };
      },
    });
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('ws lifecycle', () => {
  let h: WsHarness | undefined;

  async function start(opts: HarnessOptions = {}): Promise<WsHarness> {
    h = await startWs(opts);
    return h;
  }

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers a pipelined burst strictly in order even when handlers finish out of order', async () => {
    const s = await start({ wrap: jittered(15) });
    const c = await s.connect();
    const sent: unknown[] = [];
    for (let i = 0; i < 60; i++) {
      const f =
        i % 4 === 0
          ? frame('queue_create', { queue_name: `q${i}` })
          : i % 4 === 1
            ? frame('message_post', { queue_name: `q${i - 1}`, messages: [{ body: i }] })
            : i % 4 === 2
              ? frame('queue_get', { queue_name: `q${i - 2}` })
              : frame('nope', { i });
      sent.push(f);
      c.sendText(f);
    }
    for (const f of sent) {
      const r = (await c.nextValue()) as ResponseLike;
      expect(r.request.action).toBe((f as { action: string }).action);
      expect(r.request.body).toEqual((f as { body: unknown }).body);
    }
  });

  it('keeps reading a flood of requests (pauses and resumes the socket)', async () => {
    const s = await start({ wrap: jittered(2) });
    const c = await s.connect();
    const n = 700;
    for (let i = 0; i < n; i++) c.sendText(frame('queue_get', { queue_name: `f${i}` }));
    for (let i = 0; i < n; i++) {
      const r = (await c.nextValue(5000)) as ResponseLike;
      expect(r.request.body).toEqual({ queue_name: `f${i}` });
    }
  });

  it('answers an unexpected failure with 500 and logs it at error with the connection id', async () => {
    const s = await start({ wrap: jittered(0, { queueStats: new Error('boom') }) });
    const c = await s.connect();
    const r = await c.request(frame('queue_get_stats', { queue_name: 'x' }));
    expect(r.headers.status).toBe(500);
    expect(r.body).toEqual({ exception: 'boom', error: 'Unexpected error.' });
    const bad = await c.request(frame('queue_list', { limit: 99 }));
    expect(bad.headers.status).toBe(400);
    const errorLine = s.logs.find((l) => l['level'] === 50);
    expect(errorLine).toMatchObject({ action: 'queue_get_stats', status: 500, connId: expect.any(String) });
    expect(s.logs.find((l) => l['level'] === 30 && l['status'] === 400)).toMatchObject({ action: 'queue_list' });
  });

  it('pings with protocol frames and terminates a peer that does not pong', async () => {
    const s = await start({ ws: { heartbeatIntervalMs: 40 } });
    const alive = await s.connect();
    let pings = 0;
    alive.socket.on('ping', () => (pings += 1));
    const deaf = await TestWsClient.connect(s.url, { autoPong: false });
    const closed = await deaf.closed;
    expect(closed.code).toBe(1006);
    await until(() => pings >= 3);
    expect(alive.socket.readyState).toBe(alive.socket.OPEN);
    // Keepalive never produces application frames.
    expect(await alive.silentFor(50)).toBe(true);
    expect(s.server.connectionCount).toBe(1);
  });

  it('closes a subscriber that does not read with 1008', async () => {
    const s = await start({ ws: { maxBufferedBytes: 256 * 1024 } });
    const c = await s.connect();
    expect((await c.request(frame('subscription_create', { queue_name: 'firehose' }))).headers.status).toBe(201);
    c.socket.pause();
    const big = 'x'.repeat(100_000);
    for (let i = 0; i < 200 && !s.logs.some((l) => l['msg'] === 'ws: slow consumer closed'); i++) {
      await s.service.postMessages(CTX, 'firehose', [{ body: big }]);
    }
    expect(s.logs.some((l) => l['msg'] === 'ws: slow consumer closed')).toBe(true);
    c.socket.resume();
    const closed = await c.closed;
    expect(closed).toEqual({ code: 1008, reason: 'Send buffer limit exceeded (slow consumer).' });
    // Its subscription is cleaned up like on any close.
    await until(() => s.server.connectionCount === 0);
    await until(() => !s.logs.every((l) => l['msg'] !== 'ws: connection closed'));
  });

  it('answers plain HTTP with 426 Upgrade Required', async () => {
    const s = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: s.port, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(426);
  });

  it('closes every connection with 1001 and deletes their subscriptions on shutdown', async () => {
    const s = await start();
    const a = await s.connect();
    const b = await s.connect();
    for (const c of [a, b]) {
      expect((await c.request(frame('subscription_create', { queue_name: 'bye' }))).headers.status).toBe(201);
    }
    expect(s.server.connectionCount).toBe(2);
    const first = s.server.close();
    expect(s.server.close()).toBe(first);
    await first;
    expect(await a.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect(await b.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect(s.server.connectionCount).toBe(0);
    expect(await s.service.listSubscriptions(CTX, 'bye', {})).toEqual([]);
  });
});
