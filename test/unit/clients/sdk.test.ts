/**
 * The SDK's state machine against a scripted socket: handshake order, delivery once and in
 * order across reconnects, gap reporting, backoff with jitter, timeouts, typed errors.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionClosedError, createClient, TimeoutError, ZaqarError, type Client, type Message } from '../../../clients/js/src/index.js';
import { backoffDelay, isAfter } from '../../../clients/js/src/util.js';
import { FakeSocket, flush } from './fake-socket.js';

const CLIENT_ID = '9d1b6b2e-1c7e-4a5f-9b0e-2f3c4d5e6f70';
let client: Client | undefined;

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  vi.useRealTimers();
});

function make(extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  client = createClient({ url: 'ws://bridge/', projectId: 'p', clientId: CLIENT_ID, WebSocket: FakeSocket, pingIntervalMs: 0, ...extra });
  return client;
}

/** Opens the latest socket, answers authenticate (when sent) and every subscription_create. */
async function handshake(s: FakeSocket, attach: Record<string, unknown> = { replayed: 0, gap: false, marker: null }): Promise<void> {
  s.open();
  await flush();
  for (let req = s.unanswered()[0]; req !== undefined; req = s.unanswered()[0]) {
    if (req.action === 'authenticate') s.answer(200, { message: 'Authentified.' });
    else if (req.action === 'subscription_create') s.answer(201, { subscription_id: `sub-${req.body['queue_name'] as string}`, message: 'ok', ...attach });
    else break;
    await flush();
  }
}

describe('the SDK', () => {
  it('authenticates first, then attaches each subscription, then reports open', async () => {
    const c = make({ getToken: () => 'tok-1' });
    const opened: boolean[] = [];
    c.on('open', (e) => opened.push(e.reconnect));
    c.subscribe('tripleo', () => undefined);
    const s = FakeSocket.last();
    s.open();
    await flush();
    expect(s.sent).toEqual([{ action: 'authenticate', headers: { 'Client-ID': CLIENT_ID, 'X-Project-ID': 'p', 'X-Auth-Token': 'tok-1' }, body: {} }]);
    s.answer(200, { message: 'Authentified.' });
    await flush();
    expect(s.sent[1]).toEqual({ action: 'subscription_create', headers: { 'Client-ID': CLIENT_ID, 'X-Project-ID': 'p' }, body: { queue_name: 'tripleo', ttl: 604800, marker: 'next' } });
    expect(opened).toEqual([]);
    s.answer(201, { subscription_id: 's1', replayed: 0, gap: false, marker: '100' });
    await flush();
    expect(opened).toEqual([false]);
    expect(c.state).toBe('open');
  });

  it('delivers each message once, in order, across reconnects, and reattaches from the last marker', async () => {
    const c = make();
    const got: Message[] = [];
    const sub = c.subscribe('q', (m) => got.push(m), { from: 'first' });
    await handshake(FakeSocket.last());
    expect(FakeSocket.last().sent[0]?.body['marker']).toBe('first');
    const s1 = FakeSocket.last();
    s1.notify('q', '101', 'a');
    s1.notify('q', '102', 'b');
    s1.drop();
    expect(c.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(300);
    const s2 = FakeSocket.last();
    expect(s2).not.toBe(s1);
    s2.open();
    await flush();
    expect(s2.sent[0]).toMatchObject({ action: 'subscription_create', body: { marker: '102' } });
    s2.answer(201, { subscription_id: 's2', replayed: 2, gap: false, marker: '104' });
    // The server replays after its marker; a repeat of what was delivered is dropped anyway.
    s2.notify('q', '102', 'b');
    s2.notify('q', '103', 'c');
    s2.notify('q', '104', 'd');
    s2.notify('q', '103', 'c');
    expect(got.map((m) => [m.marker, m.body])).toEqual([['101', 'a'], ['102', 'b'], ['103', 'c'], ['104', 'd']]);
    expect(sub.marker).toBe('104');
    expect(got[0]).toEqual({ queue: 'q', id: 'id-101', body: 'a', ttl: 3600, marker: '101' });
  });

  it('resumes from the attach marker when nothing arrived before the drop', async () => {
    make().subscribe('q', () => undefined);
    await handshake(FakeSocket.last(), { replayed: 0, gap: false, marker: '500' });
    FakeSocket.last().drop();
    await vi.advanceTimersByTimeAsync(300);
    const s2 = FakeSocket.last();
    s2.open();
    await flush();
    expect(s2.sent[0]?.body['marker']).toBe('500');
  });

  it('resumes a page refresh from a stored marker and reports a gap to onGap and the gap event', async () => {
    const c = make();
    const gaps: unknown[] = [];
    const events: unknown[] = [];
    c.on('gap', (g) => events.push(g));
    c.subscribe('q', () => undefined, { from: '4200', onGap: (g) => gaps.push(g) });
    const s = FakeSocket.last();
    s.open();
    await flush();
    expect(s.sent[0]?.body['marker']).toBe('4200');
    s.answer(201, { subscription_id: 's', replayed: 3, gap: true, marker: '4900' });
    await flush();
    expect(gaps).toEqual([{ queue: 'q', replayed: 3, marker: '4200' }]);
    expect(events).toEqual(gaps);
  });

  it('calls getToken again on every reconnect', async () => {
    let n = 0;
    make({ getToken: async () => `tok-${++n}` });
    await handshake(FakeSocket.last());
    FakeSocket.last().drop(4003, 'Authentication expired.');
    await vi.advanceTimersByTimeAsync(300);
    const s2 = FakeSocket.last();
    s2.open();
    await flush();
    expect(s2.sent[0]).toMatchObject({ action: 'authenticate', headers: { 'X-Auth-Token': 'tok-2' } });
  });

  it('backs off exponentially with jitter, capped, and starts over after a success', async () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffDelay(a, { minDelayMs: 100, maxDelayMs: 1000, jitter: 0 }))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, { minDelayMs: 100, jitter: 0.5 }, () => 1)).toBe(200);
    expect(backoffDelay(3, { minDelayMs: 100, jitter: 0.5 }, () => 0)).toBe(400);
    const c = make({ reconnect: { minDelayMs: 100, maxDelayMs: 1000, jitter: 0 } });
    const delays: number[] = [];
    c.on('reconnecting', (e) => delays.push(e.delayMs));
    for (let i = 0; i < 4; i++) {
      FakeSocket.last().drop();
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(delays).toEqual([100, 200, 400, 800]);
    await handshake(FakeSocket.last());
    FakeSocket.last().drop();
    expect(delays.at(-1)).toBe(100);
  });

  it('matches answers to requests in order, and a timeout is an error that replaces the socket', async () => {
    const c = make({ requestTimeoutMs: 1000 });
    await handshake(FakeSocket.last());
    const s = FakeSocket.last();
    const first = c.post('q', [{ body: 1 }]);
    const second = c.post('q', [{ body: 2 }]);
    await flush();
    s.answer(201, { message_ids: ['m1'] });
    s.answer(201, { message_ids: ['m2'] });
    expect(await first).toEqual(['m1']);
    expect(await second).toEqual(['m2']);
    const hung = c.post('q', [{ body: 3 }]);
    const failed = expect(hung).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(1001);
    await failed;
    expect(s.closedWith?.code).toBe(4000);
    expect(c.state).toBe('connecting');
  });

  it('rejects a post refused by the queue schema with a ZaqarError naming the field', async () => {
    const c = make();
    await handshake(FakeSocket.last());
    const post = c.post('tripleo', [{ body: { type: 'x' } }]);
    await flush();
    FakeSocket.last().answer(400, { exception: 'Message 1 is invalid: /payload/status must be one of RUNNING, SUCCESS, FAILED', error: null });
    const err = await post.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZaqarError);
    expect(err).toMatchObject({ status: 400, action: 'message_post', field: '/payload/status', messageIndex: 1 });
  });

  it('fails requests in flight when the connection drops, and everything on close', async () => {
    const c = make();
    await handshake(FakeSocket.last());
    const post = c.post('q', [{ body: 1 }]);
    await flush();
    FakeSocket.last().drop();
    await expect(post).rejects.toBeInstanceOf(ConnectionClosedError);
    const waiting = expect(c.post('q', [{ body: 2 }])).rejects.toBeInstanceOf(ConnectionClosedError);
    await c.close();
    await waiting;
    expect(c.state).toBe('closed');
    const count = FakeSocket.all.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all.length).toBe(count);
  });

  it('drops a subscription the server refuses, tells onError, and keeps the connection', async () => {
    const c = make();
    const errors: Error[] = [];
    c.subscribe('q', () => undefined, { from: 'garbage!', onError: (e) => errors.push(e) });
    const s = FakeSocket.last();
    s.open();
    await flush();
    s.answer(400, { exception: 'The marker is not valid.', error: null });
    await flush();
    expect(errors.map((e) => e.message)).toEqual(['The marker is not valid.']);
    expect(c.state).toBe('open');
    expect(() => c.subscribe('q', () => undefined)).not.toThrow();
  });

  it('deletes the server subscription on sub.close() and delivers nothing after', async () => {
    const c = make();
    const got: unknown[] = [];
    const sub = c.subscribe('q', (m) => got.push(m.body));
    await handshake(FakeSocket.last());
    const s = FakeSocket.last();
    const closing = sub.close();
    await flush();
    expect(s.unanswered()[0]).toMatchObject({ action: 'subscription_delete', body: { queue_name: 'q', subscription_id: 'sub-q' } });
    s.answer(204);
    await closing;
    s.notify('q', '1', 'late');
    expect(got).toEqual([]);
  });

  it('orders markers as numbers', () => {
    expect(isAfter('1000', '999')).toBe(true);
    expect(isAfter('999', '1000')).toBe(false);
    expect(isAfter('12345678901234567890', '12345678901234567889')).toBe(true);
  });
});
