/**
 * Websocket subscriptions and notifications (reference §3.6) and the two real clients that
 * depend on them (real-clients §2, §3, §9): the TripleO UI's pipelined burst and the TripleO
 * CLI's strict request/response loop.
 */
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject, RequestContext, ZaqarService } from '../../src/core/types.js';
import type { ResponseLike, TestWsClient } from '../fixtures/ws-client.js';
import { CLIENT_B, frame, hdrs, PROJECT, startWs, type HarnessOptions, type WsHarness } from '../fixtures/ws-harness.js';

const MISTRAL: RequestContext = { project: PROJECT, clientId: null };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A service whose selected calls take `ms` longer (to prove ordering is not luck). */
function slowed(ms: number, methods: readonly (keyof ZaqarService)[]): (s: ZaqarService) => ZaqarService {
  return (s) =>
    new Proxy(s, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (!methods.includes(prop as keyof ZaqarService)) return fn.bind(target);
        return async (...args: unknown[]) => {
          await sleep(ms);
          return fn.apply(target, args);
        };
      },
    });
}

function tripleoBody(status: string, executionId: string): JsonObject {
  return {
    type: 'tripleo.deployment.v1.deploy_plan',
    payload: {
      status,
      message: `deploy ${status}`,
      execution_id: executionId,
      root_execution_id: null,
      plan_name: 'overcloud',
      deployment_status: status === 'RUNNING' ? 'DEPLOYING' : 'DEPLOY_SUCCESS',
    },
  };
}

describe('ws subscriptions', () => {
  let h: WsHarness | undefined;

  async function start(opts: HarnessOptions = {}): Promise<WsHarness> {
    h = await startWs(opts);
    return h;
  }

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function subscribe(c: TestWsClient, queue: string, extra: Record<string, unknown> = {}): Promise<ResponseLike> {
    const r = await c.request(frame('subscription_create', { queue_name: queue, ttl: 3600, ...extra }));
    expect(r.headers.status).toBe(201);
    return r;
  }

  it('TripleO UI: a pipelined burst is answered in order and the subscription is live', async () => {
    const s = await start({ wrap: slowed(40, ['createQueue']) });
    const ui = await s.connect('/zaqar');
    const client = '0d1b5a4e-2f6c-4c43-9d5e-8b7a6c5d4e3f';
    const h2 = { 'Client-ID': client, 'X-Project-ID': PROJECT };
    ui.sendText({ action: 'authenticate', headers: { 'X-Auth-Token': 'token', 'Client-ID': client, 'X-Project-ID': PROJECT } });
    ui.sendText({ action: 'queue_create', headers: h2, body: { queue_name: 'tripleo' } });
    ui.sendText({ action: 'queue_create', headers: h2, body: { queue_name: 'tripleo-ui-logging' } });
    ui.sendText({ action: 'subscription_create', headers: h2, body: { queue_name: 'tripleo', ttl: 3600 } });

    const responses = [];
    for (let i = 0; i < 4; i++) responses.push((await ui.nextValue()) as ResponseLike);
    expect(responses.map((r) => [r.request.action, r.headers.status])).toEqual([
      ['authenticate', 200],
      ['queue_create', 201],
      ['queue_create', 201],
      ['subscription_create', 201],
    ]);
    expect(responses[0]?.body).toEqual({ message: 'Authentified.' });
    expect(responses[1]?.body).toBe('Queue tripleo created.');
    expect(responses[2]?.body).toBe('Queue tripleo-ui-logging created.');
    expect(responses[3]?.body).toEqual({ subscription_id: expect.any(String), message: 'Subscription tripleo created.' });

    // Mistral posts over REST: no ttl, its own Client-ID.
    const body = tripleoBody('RUNNING', '6f1c0000-0000-4000-8000-000000000001');
    await s.service.postMessages(MISTRAL, 'tripleo', [{ body }]);
    const n = await ui.next();
    expect(n.binary).toBe(false);
    expect(n.text).toBe(
      `{"ttl": 3600, "body": {"type": "tripleo.deployment.v1.deploy_plan", "payload": {"status": "RUNNING", "message": "deploy RUNNING", "execution_id": "6f1c0000-0000-4000-8000-000000000001", "root_execution_id": null, "plan_name": "overcloud", "deployment_status": "DEPLOYING"}}, "Message_Type": "Notification", "queue_name": "tripleo"}`,
    );
    expect(n.value).not.toHaveProperty('request');
    expect(n.value).not.toHaveProperty('headers');
    // Exactly one frame; the logging queue has no subscriber.
    await s.service.postMessages(MISTRAL, 'tripleo-ui-logging', [{ body: { message: ['x'], level: 'info' } }]);
    expect(await ui.silentFor(150)).toBe(true);
  });

  it('TripleO CLI: strict request/response, then RUNNING → SUCCESS notifications', async () => {
    const s = await start();
    const cli = await s.connect();
    const client = 'c0ffee00-1234-4abc-8def-0123456789ab';
    const h2 = { 'Client-ID': client, 'X-Project-ID': PROJECT };
    const seq = [
      { action: 'authenticate', headers: { ...h2, 'X-Auth-Token': 'token' } },
      { action: 'queue_create', headers: h2, body: { queue_name: 'tripleo' } },
      { action: 'subscription_create', headers: h2, body: { queue_name: 'tripleo', ttl: 10000 } },
    ];
    for (const f of seq) {
      const r = await cli.request(f);
      expect(r.request.action).toBe(f.action);
      expect([200, 201, 204]).toContain(r.headers.status);
    }
    // A second CLI run: the queue exists (204, never 409).
    const again = await s.connect();
    expect((await again.request(seq[1])).headers.status).toBe(204);
    await again.close();

    const mine = 'e0000000-0000-4000-8000-000000000001';
    const other = 'e0000000-0000-4000-8000-000000000002';
    await s.service.postMessages(MISTRAL, 'tripleo', [{ body: tripleoBody('RUNNING', mine) }]);
    await s.service.postMessages(MISTRAL, 'tripleo', [{ body: tripleoBody('RUNNING', other) }]);
    await s.service.postMessages(MISTRAL, 'tripleo', [{ body: tripleoBody('SUCCESS', mine) }]);
    const seen: [string, string][] = [];
    for (;;) {
      const f = (await cli.nextValue()) as { body: { payload: { status: string; execution_id: string } } };
      const { status, execution_id } = f.body.payload;
      seen.push([execution_id, status]);
      if (execution_id === mine && status !== 'RUNNING') break;
    }
    expect(seen).toEqual([
      [mine, 'RUNNING'],
      [other, 'RUNNING'],
      [mine, 'SUCCESS'],
    ]);
  });

  it('activates the subscription before answering 201 (slow watch)', async () => {
    const s = await start({ wrap: slowed(60, ['watch']) });
    const c = await s.connect();
    await subscribe(c, 'early');
    await s.service.postMessages(MISTRAL, 'early', [{ body: 'first' }]);
    expect(await c.nextValue()).toEqual({ ttl: 3600, body: 'first', Message_Type: 'Notification', queue_name: 'early' });
  });

  it('never lets a notification overtake the response being computed', async () => {
    const s = await start();
    const c = await s.connect();
    await subscribe(c, 'self');
    c.sendText(frame('message_post', { queue_name: 'self', messages: [{ body: 'own', ttl: 120 }] }));
    const first = (await c.nextValue()) as ResponseLike;
    expect(first.request.action).toBe('message_post');
    expect(first.headers.status).toBe(201);
    // The poster is notified of its own message (no echo filter on notifications).
    expect(await c.nextValue()).toEqual({ ttl: 120, body: 'own', Message_Type: 'Notification', queue_name: 'self' });
  });

  it('rejects a second subscriber-less subscription on the same socket with 409', async () => {
    const s = await start();
    const c = await s.connect();
    await subscribe(c, 'dup');
    const again = await c.request(frame('subscription_create', { queue_name: 'dup', ttl: 600 }));
    expect(again.headers.status).toBe(409);
    expect(again.body).toBe('Subscription dup not created.');
    // Another socket is another subscriber.
    const d = await s.connect();
    await subscribe(d, 'dup');
    await s.service.postMessages(MISTRAL, 'dup', [{ body: 1 }]);
    expect((await c.nextValue()) as object).toMatchObject({ body: 1 });
    expect((await d.nextValue()) as object).toMatchObject({ body: 1 });
    expect(await c.silentFor(100)).toBe(true);
  });

  it('stores the connection as http://<host>:<port>/<connection-uuid> and deletes it on close', async () => {
    const s = await start();
    const a = await s.connect();
    const b = await s.connect();
    const created = await subscribe(a, 'gone');
    const subId = (created.body as { subscription_id: string }).subscription_id;
    const hook = await a.request(frame('subscription_create', { queue_name: 'gone', subscriber: 'http://127.0.0.1:9/hook', ttl: 600 }));
    expect(hook.headers.status).toBe(201);
    const listed = await b.request(frame('subscription_list', { queue_name: 'gone' }, hdrs(CLIENT_B)));
    const subs = (listed.body as { subscriptions: { id: string; subscriber: string }[] }).subscriptions;
    const own = subs.find((x) => x.id === subId);
    expect(own?.subscriber).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/[0-9a-f-]{36}$`));
    expect(subs).toHaveLength(2);

    await a.close();
    let remaining = subs;
    for (let i = 0; i < 50 && remaining.length !== 1; i++) {
      await sleep(20);
      const r = await b.request(frame('subscription_list', { queue_name: 'gone' }, hdrs(CLIENT_B)));
      remaining = (r.body as { subscriptions: { id: string; subscriber: string }[] }).subscriptions;
    }
    // The websocket subscription is gone; the webhook one created over WS stays.
    expect(remaining.map((x) => x.subscriber)).toEqual(['http://127.0.0.1:9/hook']);
    expect(s.server.connectionCount).toBe(1);
  });

  it('delivers 100 notifications in log order, the same order to every subscriber', async () => {
    const s = await start();
    const a = await s.connect();
    const b = await s.connect();
    await subscribe(a, 'order');
    await subscribe(b, 'order');
    // Concurrent posts: whatever order the log gives them, both subscribers see that order.
    await Promise.all(Array.from({ length: 100 }, (_, i) => s.service.postMessages(MISTRAL, 'order', [{ body: i }])));
    const got = async (c: TestWsClient): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 100; i++) out.push(((await c.nextValue()) as { body: number }).body);
      return out;
    };
    const [fromA, fromB] = [await got(a), await got(b)];
    expect(fromA).toEqual(fromB);
    expect([...fromA].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const listed = await s.service.listMessages({ project: PROJECT, clientId: null }, 'order', { limit: 20, echo: true });
    expect(listed.messages.map((m) => m.body)).toEqual(fromA.slice(0, 20));
    // Sequential posts arrive in post order.
    for (let i = 0; i < 100; i++) await s.service.postMessages(MISTRAL, 'order', [{ body: 1000 + i }]);
    expect(await got(a)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(await a.silentFor(100)).toBe(true);
  });

  it('writes the notifications of one post of 10 messages in two socket writes, in order', async () => {
    const s = await start();
    const c = await s.connect();
    await subscribe(c, 'batch');
    // Count the writes the server makes on its side of the connection (each is one syscall).
    type WriteFn = (this: Socket, ...args: unknown[]) => unknown;
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', WriteFn>;
    const originals = { _write: proto._write, _writev: proto._writev };
    let writes = 0;
    for (const name of ['_write', '_writev'] as const) {
      const original = originals[name];
      proto[name] = function (this: Socket, ...args: unknown[]): unknown {
        if (this.localPort === s.port) writes++;
        return original.apply(this, args);
      };
    }
    try {
      await s.service.postMessages(MISTRAL, 'batch', Array.from({ length: 10 }, (_, i) => ({ body: i })));
      const got: number[] = [];
      for (let i = 0; i < 10; i++) got.push(((await c.nextValue()) as { body: number }).body);
      expect(got).toEqual(Array.from({ length: 10 }, (_, i) => i));
    } finally {
      proto._write = originals._write;
      proto._writev = originals._writev;
    }
    // The first frame leaves at once; the other nine were corked and leave together.
    expect(writes).toBe(2);
  });

  it('keeps notifications inside their project', async () => {
    const s = await start();
    const c = await s.connect();
    await subscribe(c, 'shared-name');
    await s.service.postMessages({ project: 'other-project', clientId: null }, 'shared-name', [{ body: 'not yours' }]);
    expect(await c.silentFor(150)).toBe(true);
    await s.service.postMessages(MISTRAL, 'shared-name', [{ body: 'yours' }]);
    expect((await c.nextValue()) as object).toMatchObject({ body: 'yours' });
  });

  it('sends notifications in MessagePack when the subscription was created in binary', async () => {
    const s = await start();
    const bin = await s.connect();
    const text = await s.connect();
    bin.sendBinary(frame('subscription_create', { queue_name: 'mp', ttl: 600 }));
    const created = await bin.next();
    expect(created.binary).toBe(true);
    expect(created.value).toMatchObject({
      request: { action: 'subscription_create', body: { queue_name: 'mp', ttl: 600 }, api: 'v2' },
      body: { message: 'Subscription mp created.' },
      headers: { status: 201 },
    });
    await subscribe(text, 'mp');
    text.sendText(frame('message_post', { queue_name: 'mp', messages: [{ body: 'to-binary-sub' }] }, hdrs(CLIENT_B)));
    expect(((await text.nextValue()) as ResponseLike).headers.status).toBe(201);
    const n = await bin.next();
    expect(n.binary).toBe(true);
    expect(n.value).toEqual({ ttl: 3600, body: 'to-binary-sub', Message_Type: 'Notification', queue_name: 'mp' });
    const t = await text.next();
    expect(t.binary).toBe(false);
    expect(t.text).toBe('{"ttl": 3600, "body": "to-binary-sub", "Message_Type": "Notification", "queue_name": "mp"}');
    // MessagePack keeps Zaqar's key order too.
    expect(Object.keys(n.value as object)).toEqual(['ttl', 'body', 'Message_Type', 'queue_name']);
  });

  it('uses the frame type of the last subscriber-less subscription_create for the whole connection', async () => {
    const s = await start();
    const c = await s.connect();
    c.sendBinary(frame('subscription_create', { queue_name: 'first' }));
    expect((await c.next()).binary).toBe(true);
    await subscribe(c, 'second');
    await s.service.postMessages(MISTRAL, 'first', [{ body: 'f' }]);
    const n = await c.next();
    expect([n.binary, (n.value as { body: string }).body]).toEqual([false, 'f']);
    // A webhook subscription (binary request) does not switch the connection.
    c.sendBinary(frame('subscription_create', { queue_name: 'third', subscriber: 'http://127.0.0.1:9/x' }));
    expect((await c.next()).binary).toBe(true);
    await s.service.postMessages(MISTRAL, 'second', [{ body: 's' }]);
    expect((await c.next()).binary).toBe(false);
    await s.service.postMessages(MISTRAL, 'third', [{ body: 'webhook only' }]);
    expect(await c.silentFor(100)).toBe(true);
  });

  it('stops delivering when the subscription expires or is deleted', async () => {
    const s = await start();
    const c = await s.connect();
    await subscribe(c, 'ttl', { ttl: 60 });
    const del = await subscribe(c, 'del');
    await s.service.postMessages(MISTRAL, 'ttl', [{ body: 'before' }]);
    expect((await c.nextValue()) as object).toMatchObject({ body: 'before' });
    s.clock.advance(61);
    await s.service.postMessages(MISTRAL, 'ttl', [{ body: 'after' }]);
    expect(await c.silentFor(150)).toBe(true);

    const id = (del.body as { subscription_id: string }).subscription_id;
    const removed = await c.request(frame('subscription_delete', { queue_name: 'del', subscription_id: id }));
    expect(removed).toMatchObject({ body: `Subscription ${id} removed.`, headers: { status: 204 } });
    await s.service.postMessages(MISTRAL, 'del', [{ body: 'after delete' }]);
    expect(await c.silentFor(150)).toBe(true);
  });

  it('answers subscription_get and subscription_list with Zaqar records', async () => {
    const s = await start();
    const c = await s.connect();
    const created = await c.request(
      frame('subscription_create', { queue_name: 'rec', subscriber: 'http://127.0.0.1:9/hook', ttl: 600, options: { x: 1 } }),
    );
    const id = (created.body as { subscription_id: string }).subscription_id;
    const got = await c.request(frame('subscription_get', { queue_name: 'rec', subscription_id: id }));
    expect(got.body).toEqual({
      id,
      source: 'rec',
      subscriber: 'http://127.0.0.1:9/hook',
      ttl: 600,
      age: 0,
      options: { x: 1 },
      confirmed: false,
    });
    expect(Object.keys(got.body as object)).toEqual(['id', 'source', 'subscriber', 'ttl', 'age', 'options', 'confirmed']);
    const missing = await c.request(frame('subscription_get', { queue_name: 'rec', subscription_id: 'nope' }));
    expect(missing.headers.status).toBe(404);
    expect(missing.body).toEqual({ exception: 'Subscription nope does not exist', error: 'Subscription nope for queue rec does not exist.' });
    const low = await c.request(frame('subscription_create', { queue_name: 'rec', ttl: 10 }));
    expect(low.body).toEqual({ exception: 'The TTL for a subscription must be at least 60 seconds long.', error: null });
    const limit = await c.request(frame('subscription_list', { queue_name: 'rec', limit: 21 }));
    expect(limit.body).toEqual({ exception: 'Limit must be at least 1 and may not be greater than 20.', error: null });
  });
});
