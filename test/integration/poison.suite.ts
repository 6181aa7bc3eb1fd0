/**
 * Issue 12's two defects, over real sockets on a whole app, run on each backend by
 * `poison.test.ts` (embedded) and `poison.rabbitmq.test.ts`:
 *
 * 1. A body nested thousands deep was accepted, then broke every read of its queue. Bodies
 *    deeper than {@link MAX_BODY_DEPTH} are refused before storage, and records that no reader
 *    could render — already in a log, written by a bug or another version — are skipped by the
 *    fold and counted, so lists, gets, claims, stats, notifications and replay keep working.
 * 2. A reattach marker beyond the queue's head (from another queue, or from before a restart)
 *    answered `gap: false` and then delivered nothing, ever. It now answers `gap: true` and
 *    delivers live from now.
 */
import { encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { MAX_BODY_DEPTH } from '../../src/core/rules.js';
import { TestWsClient } from '../fixtures/ws-client.js';

export const PROJECT = 'proj-poison';
const CLIENT = '5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const headers = { 'Client-ID': CLIENT, 'X-Project-ID': PROJECT };

export interface PoisonTarget {
  readonly app: App;
  readonly restPort: number;
  readonly wsPort: number;
  /** Appends the JSON text `record` as is to `queue`'s log, as a bug or another version could have. */
  appendRaw(queue: string, record: string): Promise<void>;
  close(): Promise<void>;
}

export interface PoisonSuiteOptions {
  readonly name: string;
  readonly start: () => Promise<PoisonTarget>;
}

/** `[[[…1…]]]`, `depth` arrays deep, as JSON text (no recursion to build or encode it). */
export function deepArrayText(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** Stands for a body 5,000 deep in a record, replaced in its JSON text. */
const DEEP = '__DEEP_BODY__';

/**
 * A MessagePack `message_post` frame whose body is `depth` arrays deep, spliced in as bytes
 * (`0x91` is a one-element array): the encoder itself recurses.
 */
function deepMsgpackPost(queue: string, depth: number): Uint8Array {
  const placeholder = 'PLACEHOLDER-DEEP-BODY';
  const frame = Buffer.from(encode({ action: 'message_post', headers, body: { queue_name: queue, messages: [{ ttl: 300, body: placeholder }] } }));
  const marker = Buffer.from(encode(placeholder));
  const at = frame.indexOf(marker);
  return Buffer.concat([frame.subarray(0, at), Buffer.alloc(depth, 0x91), Buffer.from([0x01]), frame.subarray(at + marker.length)]);
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export function rest(port: number) {
  return async (method: string, path: string, body?: string): Promise<Reply> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
}

/** The value of one series of the app's `/_metrics`, 0 when absent. */
export async function metric(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/_metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

interface WsReply {
  readonly headers: { readonly status: number };
  readonly body: Record<string, unknown>;
}

async function wsRequest(c: TestWsClient, action: string, body: Record<string, unknown>): Promise<WsReply> {
  return (await c.request({ action, headers, body })) as WsReply;
}

/** Notifications' bodies until `n` arrived. */
async function bodies(c: TestWsClient, n: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(((await c.nextValue(10_000)) as { body: unknown }).body);
  return out;
}

export function poisonSuite(opts: PoisonSuiteOptions): void {
  describe(`poison messages and unknown markers (${opts.name})`, { timeout: 60_000 }, () => {
    let t: PoisonTarget | undefined;
    const clients: TestWsClient[] = [];
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      await t?.close();
      t = undefined;
    });
    const start = async (): Promise<PoisonTarget> => (t = await opts.start());
    const connect = async (target: PoisonTarget): Promise<TestWsClient> => {
      const c = await TestWsClient.connect(`ws://127.0.0.1:${target.wsPort}/`);
      clients.push(c);
      return c;
    };

    it('refuses a body nested 5,000 deep on REST with 400, stores nothing, and the queue still reads', async () => {
      const target = await start();
      const r = rest(target.restPort);
      const post = (depth: number): Promise<Reply> =>
        r('POST', '/v2/queues/deep/messages', `{"messages": [{"ttl": 300, "body": ${deepArrayText(depth)}}]}`);
      const refused = await post(5_000);
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        title: 'Invalid API request',
        description: `Message body is nested too deeply: at most ${MAX_BODY_DEPTH} levels of arrays and objects are allowed.`,
      });
      expect((await post(MAX_BODY_DEPTH + 1)).status).toBe(400);
      expect((await post(MAX_BODY_DEPTH)).status).toBe(201); // the limit itself is allowed
      const list = await r('GET', '/v2/queues/deep/messages?echo=true');
      expect(list.status).toBe(200);
      expect((list.body as { messages: unknown[] }).messages).toHaveLength(1);
      const stats = await r('GET', '/v2/queues/deep/stats');
      expect((stats.body as { messages: { total: number } }).messages.total).toBe(1);
    });

    it('refuses a deep message_post over WebSocket (JSON and MessagePack) with 400; the socket stays usable', async () => {
      const target = await start();
      const c = await connect(target);
      const frame = (depth: number): string =>
        `{"action": "message_post", "headers": {"Client-ID": "${CLIENT}", "X-Project-ID": "${PROJECT}"}, ` +
        `"body": {"queue_name": "deepws", "messages": [{"ttl": 300, "body": ${deepArrayText(depth)}}]}}`;
      c.sendText(frame(5_000));
      const json = (await c.nextValue()) as WsReply;
      expect(json.headers.status).toBe(400);
      expect(String(json.body['error'])).toContain('nested too deeply');
      c.sendBinary(deepMsgpackPost('deepws', 5_000));
      const binary = (await c.nextValue()) as WsReply;
      expect(binary.headers.status).toBe(400);
      // Still usable, and nothing was stored.
      const ok = await wsRequest(c, 'message_post', { queue_name: 'deepws', messages: [{ ttl: 300, body: 'fine' }] });
      expect(ok.headers.status).toBe(201);
      const list = await wsRequest(c, 'message_list', { queue_name: 'deepws', echo: true });
      expect((list.body['messages'] as { body: unknown }[]).map((m) => m.body)).toEqual(['fine']);
    });

    it('skips records no reader could render: list, get, stats, claims, notifications and replay keep working', async () => {
      const target = await start();
      const r = rest(target.restPort);
      expect((await r('POST', '/v2/queues/odd/messages', '{"messages": [{"ttl": 300, "body": "before"}]}')).status).toBe(201);
      const live = await connect(target);
      expect((await wsRequest(live, 'subscription_create', { queue_name: 'odd', ttl: 3600 })).headers.status).toBe(201);
      const skippedBefore = await metric(target.restPort, 'zaqar_bridge_core_events_total', 'event="record_skipped"');

      const at = Date.now();
      const odd: unknown[] = [
        // What a version without the depth limit stored.
        { type: 'post', rid: 'odd-1', at, clientId: null, messages: [{ id: 'deep-id', body: DEEP, ttl: 300, delay: 0 }] },
        { type: 'post', rid: 'odd-2', at, clientId: null, messages: 'not a list' },
        { type: 'post', rid: 'odd-3', at, clientId: null, messages: [{ id: 42, body: 'id is a number', ttl: 300, delay: 0 }] },
        { type: 'post', rid: 'odd-4', at, clientId: 7, messages: [] },
        { type: 'claim', rid: 'odd-5', at, claimId: 'c', ttl: 'long', grace: 60, limit: 5, maxClaimCount: null },
        { type: 'delete_many', rid: 'odd-6', at, ids: [1, 2] },
      ];
      // As text: encoding a body this deep overflows the stack (that was the defect).
      for (const record of odd) await target.appendRaw('odd', JSON.stringify(record).replace(`"${DEEP}"`, deepArrayText(5_000)));
      expect((await r('POST', '/v2/queues/odd/messages', '{"messages": [{"ttl": 300, "body": "after"}]}')).status).toBe(201);

      // The live subscriber gets the good message (and only it), on a socket that still works.
      expect(await bodies(live, 1)).toEqual(['after']);
      const list = await r('GET', '/v2/queues/odd/messages?echo=true');
      expect(list.status).toBe(200);
      const messages = (list.body as { messages: { id: string; body: unknown }[] }).messages;
      expect(messages.map((m) => m.body)).toEqual(['before', 'after']);
      expect((await r('GET', `/v2/queues/odd/messages/${messages[0]?.id ?? ''}`)).status).toBe(200);
      expect((await r('GET', '/v2/queues/odd/messages/deep-id')).status).toBe(404);
      expect((await r('GET', `/v2/queues/odd/messages?ids=${messages.map((m) => m.id).join(',')},deep-id`)).status).toBe(200);
      const stats = await r('GET', '/v2/queues/odd/stats');
      expect((stats.body as { messages: { total: number } }).messages.total).toBe(2);
      const claim = await r('POST', '/v2/queues/odd/claims?limit=10', '{"ttl": 300, "grace": 60}');
      expect(claim.status).toBe(201);
      expect((claim.body as { messages: unknown[] }).messages).toHaveLength(2);

      // A reattaching client is replayed the good messages only.
      const again = await connect(target);
      const reattach = await wsRequest(again, 'subscription_create', { queue_name: 'odd', ttl: 3600, marker: 'first' });
      expect(reattach.body).toMatchObject({ replayed: 2, gap: false });
      expect(await bodies(again, 2)).toEqual(['before', 'after']);

      // Every odd record was reported (counted), none twice.
      const skipped = (await metric(target.restPort, 'zaqar_bridge_core_events_total', 'event="record_skipped"')) - skippedBefore;
      expect(skipped).toBe(odd.length);
    });

    it('answers gap: true to a marker beyond the queue\'s head (from another queue), then delivers live', async () => {
      const target = await start();
      const r = rest(target.restPort);
      const c = await connect(target);
      // A marker of a busier queue (created later, so its log starts no lower) is beyond the
      // head of a quieter one.
      await r('POST', '/v2/queues/quiet/messages', '{"messages": [{"ttl": 300, "body": "old"}]}');
      expect((await wsRequest(c, 'subscription_create', { queue_name: 'busy', ttl: 3600, marker: 'next' })).headers.status).toBe(201);
      for (let i = 0; i < 5; i++) await r('POST', '/v2/queues/busy/messages', `{"messages": [{"ttl": 300, "body": ${i}}]}`);
      const busy: { marker: string }[] = [];
      for (let i = 0; i < 5; i++) busy.push((await c.nextValue(10_000)) as { marker: string });
      const foreignMarker = busy.at(-1)?.marker ?? '';

      const q = await connect(target);
      const reply = await wsRequest(q, 'subscription_create', { queue_name: 'quiet', ttl: 3600, marker: foreignMarker });
      expect(reply.headers.status).toBe(201);
      expect(reply.body).toMatchObject({ replayed: 0, gap: true });
      await r('POST', '/v2/queues/quiet/messages', '{"messages": [{"ttl": 300, "body": "live"}]}');
      expect(await bodies(q, 1)).toEqual(['live']);

      // A well-formed marker no queue handed out, far beyond every head: the same answer.
      const far = await connect(target);
      const farReply = await wsRequest(far, 'subscription_create', { queue_name: 'quiet', ttl: 3600, marker: '9000000000000000' });
      expect(farReply.body).toMatchObject({ replayed: 0, gap: true });
      await r('POST', '/v2/queues/quiet/messages', '{"messages": [{"ttl": 300, "body": "live 2"}]}');
      expect(await bodies(far, 1)).toEqual(['live 2']);
    });
  });
}
