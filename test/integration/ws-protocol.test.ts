/**
 * Framing, request processing order and error shapes (reference §3.1–§3.3), plus the
 * endpoint errors clients meet most, over real sockets.
 */
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonJsonError } from '../../src/transports/ws/py-json-error.js';
import type { ResponseLike, TestWsClient } from '../fixtures/ws-client.js';
import { CLIENT_A, frame, hdrs, PROJECT, startWs, type WsHarness } from '../fixtures/ws-harness.js';

describe('ws protocol', () => {
  let h: WsHarness;
  let c: TestWsClient;

  beforeAll(async () => {
    h = await startWs();
    c = await h.connect('/some/path?x=1');
  });
  afterAll(async () => {
    await h.close();
  });

  it('accepts any path and query and answers in order', async () => {
    const r = await c.request(frame('queue_list', {}));
    expect(r).toEqual({
      request: { action: 'queue_list', body: {}, headers: hdrs(), api: 'v2' },
      body: { queues: [] },
      headers: { status: 200 },
    });
  });

  it('echoes a missing body as {} and keeps Zaqar key order', async () => {
    c.sendText(frame('queue_list'));
    const got = await c.next();
    expect(got.text).toBe(
      `{"request": {"action": "queue_list", "body": {}, "headers": {"Client-ID": "${CLIENT_A}", "X-Project-ID": "${PROJECT}"}, "api": "v2"}, "body": {"queues": []}, "headers": {"status": 200}}`,
    );
  });

  it('answers undecodable JSON with Python\'s decoder message and a null echo', async () => {
    c.sendText('{"action": "queue_list", "body": {,}}');
    const r = (await c.nextValue()) as ResponseLike;
    expect(r.request).toEqual({ action: null, body: {}, headers: {}, api: 'v2' });
    expect(r.headers.status).toBe(400);
    expect(r.body).toEqual({
      error: "Can't decode text (JSON) request. JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 35 (char 34)",
    });
  });

  it.each([
    ['{not json', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
    ['', 'Expecting value: line 1 column 1 (char 0)'],
    ['[1,]', 'Expecting value: line 1 column 4 (char 3)'],
    ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
    ['{"a": 1 "b": 2}', "Expecting ',' delimiter: line 1 column 9 (char 8)"],
    ['{"a": 1} x', 'Extra data: line 1 column 10 (char 9)'],
    ['"abc', 'Unterminated string starting at: line 1 column 1 (char 0)'],
    ['{"a": "x\ny"}', 'Invalid control character at: line 1 column 9 (char 8)'],
    ['{"a": "\\q"}', 'Invalid \\escape: line 1 column 8 (char 7)'],
    ['{"a": "\\u12"}', 'Invalid \\uXXXX escape: line 1 column 9 (char 8)'],
    ['\n\n  {x', 'Expecting property name enclosed in double quotes: line 3 column 4 (char 5)'],
    ['01', 'Extra data: line 1 column 2 (char 1)'],
  ])('reproduces json.loads error for %j', (text, message) => {
    expect(pythonJsonError(text)).toBe(message);
  });

  it('answers an undecodable MessagePack frame in binary', async () => {
    c.sendBinary(Uint8Array.of(0xc1, 0xc1));
    const got = await c.next();
    expect(got.binary).toBe(true);
    expect(got.value).toEqual({
      request: { action: null, body: {}, headers: {}, api: 'v2' },
      body: { error: "Can't decode binary (MessagePack) request. FormatError: " },
      headers: { status: 400 },
    });
  });

  it.each([
    ['[1,2,3]'],
    ['"text"'],
    ['42'],
    ['null'],
  ])('rejects the non-object frame %s', async (text) => {
    c.sendText(text);
    const r = (await c.nextValue()) as ResponseLike;
    expect(r.headers.status).toBe(400);
    expect(r.body).toEqual({ error: 'Unexpected body type. Expected dict or dict like.' });
    expect(r.request.action).toBeNull();
  });

  it('rejects unknown and missing actions', async () => {
    const unknown = await c.request(frame('no_such_action', {}));
    expect(unknown.body).toEqual({ error: 'no_such_action is not a valid action' });
    expect(unknown.request.action).toBe('no_such_action');
    const missing = await c.request({ headers: hdrs(), body: {} });
    expect(missing.body).toEqual({ error: 'None is not a valid action' });
    const numeric = await c.request({ action: 5, headers: hdrs() });
    expect(numeric.body).toEqual({ error: '5 is not a valid action' });
  });

  it.each([
    ['missing Client-ID', frame('queue_list', {}, { 'X-Project-ID': PROJECT })],
    ['missing X-Project-ID', frame('queue_list', {}, { 'Client-ID': CLIENT_A })],
    ['empty X-Project-ID', frame('queue_list', {}, { 'Client-ID': CLIENT_A, 'X-Project-ID': '' })],
    ['no headers at all', { action: 'queue_list', body: {} }],
    ['headers not an object', { action: 'queue_list', headers: 'x', body: {} }],
    ['body not an object', frame('queue_list', 'x')],
    ['queue_create without body', frame('queue_create')],
    ['queue_name of the wrong type', frame('queue_get', { queue_name: 5 })],
    ['limit as a string', frame('queue_list', { limit: '5' })],
    ['limit as a float', frame('message_list', { queue_name: 'q', limit: 1.5 })],
    ['echo as a string', frame('message_list', { queue_name: 'q', echo: 'true' })],
    ['messages not an array', frame('message_post', { queue_name: 'q', messages: 'x' })],
    ['message_get without message_id', frame('message_get', { queue_name: 'q' })],
    ['claim_update without claim_id', frame('claim_update', { queue_name: 'q', ttl: 60 })],
    ['subscription options not an object', frame('subscription_create', { queue_name: 'q', options: [] })],
    ['pool_get without pool_name', frame('pool_get', {})],
    ['authenticate without X-Auth-Token', frame('authenticate', undefined, { 'X-Project-ID': PROJECT })],
  ])('schema: %s → 400 "Schema validation failed."', async (_name, f) => {
    const r = await c.request(f);
    expect(r.headers.status).toBe(400);
    expect(r.body).toEqual({ error: 'Schema validation failed.' });
  });

  it('allows extra keys everywhere', async () => {
    const r = await c.request({ ...frame('queue_list', { extra: 1 }, { ...hdrs(), 'X-Other': 'y' }), more: true });
    expect(r.headers.status).toBe(200);
  });

  it('answers authenticate (no-auth mode) with the empty echo of §3.4.2', async () => {
    c.sendText({ action: 'authenticate', headers: { 'X-Auth-Token': 'tok', 'X-Project-ID': PROJECT, 'Client-ID': CLIENT_A } });
    const got = await c.next();
    expect(got.text).toBe(
      '{"request": {"action": "authenticate", "body": {}, "headers": {}, "api": "v2"}, "body": {"message": "Authentified."}, "headers": {"status": 200}}',
    );
  });

  it('answers schema-only actions instead of wedging, and stays usable', async () => {
    expect((await c.request(frame('ping_node'))).headers.status).toBe(501);
    expect((await c.request(frame('check_node_health'))).body).toEqual({
      error: 'check_node_health is not implemented over WebSocket.',
    });
    expect((await c.request(frame('get_home_doc'))).headers.status).toBe(501);
    expect(await c.request(frame('flavor_list', { flavor_name: 'x' }))).toMatchObject({
      body: { flavors: [] },
      headers: { status: 200 },
    });
    expect(await c.request(frame('pool_list', { pool_name: 'x' }))).toMatchObject({ body: { pools: [] }, headers: { status: 200 } });
    expect((await c.request(frame('pool_create', { pool_name: 'x' }))).headers.status).toBe(501);
    expect((await c.request(frame('queue_list', {}))).headers.status).toBe(200);
  });

  it('parses Client-ID only in message_list and message_post', async () => {
    const bad = hdrs('not-a-uuid');
    expect((await c.request(frame('queue_create', { queue_name: 'cid' }, bad))).headers.status).toBe(201);
    for (const f of [
      frame('message_list', { queue_name: 'cid' }, bad),
      frame('message_post', { queue_name: 'cid', messages: [{ body: 1 }] }, bad),
    ]) {
      const r = await c.request(f);
      expect(r.headers.status).toBe(400);
      expect(r.body).toEqual({ exception: 'badly formed hexadecimal UUID string', error: null });
    }
    // Dash-less and braced spellings are the same client (echo filter).
    const dashless = hdrs(CLIENT_A.replaceAll('-', ''));
    expect((await c.request(frame('message_post', { queue_name: 'cid', messages: [{ body: 'x' }] }, dashless))).headers.status).toBe(201);
    const braced = hdrs(`{${CLIENT_A.toUpperCase()}}`);
    const own = await c.request(frame('message_list', { queue_name: 'cid' }, braced));
    expect(own.body).toEqual({ messages: [] });
  });

  it.each([
    ['bad name!', 'Queue names may only contain ASCII letters, digits, underscores, and dashes.'],
    ['x'.repeat(65), 'Queue names may not be more than 64 characters long.'],
  ])('rejects the queue name %j in queue_create, message_post and subscription_create', async (name, text) => {
    for (const f of [
      frame('queue_create', { queue_name: name }),
      frame('message_post', { queue_name: name, messages: [{ body: 1 }] }),
      frame('subscription_create', { queue_name: name }),
    ]) {
      const r = await c.request(f);
      expect(r.headers.status).toBe(400);
      expect(r.body).toEqual({ exception: text, error: null });
    }
  });

  it('validates posted messages with Zaqar texts', async () => {
    const post = (messages: unknown): Promise<ResponseLike> => c.request(frame('message_post', { queue_name: 'posts', messages }));
    expect((await post([])).body).toEqual({ exception: 'No messages to enqueu.', error: null });
    expect((await post([{ ttl: 100 }])).body).toEqual({ exception: 'Bad request. Missing "body" field.', error: null });
    expect((await post([{ body: 1, ttl: '60' }])).body).toEqual({
      exception: 'Bad request. The value of the "ttl" field must be a int.',
      error: null,
    });
    const ttlText = 'The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long.';
    expect((await post([{ body: 1, ttl: 59 }])).body).toEqual({ exception: ttlText, error: null });
    expect((await post([{ body: 1, ttl: 1209601 }])).body).toEqual({ exception: ttlText, error: null });
    expect((await post([{ body: 1, ttl: true }])).body).toEqual({ exception: ttlText, error: null });
    const ok = await post([{ body: null, ttl: 60 }, { body: { nested: [1, 'é'] }, ttl: 1209600, delay: 5 }]);
    expect(ok.headers.status).toBe(201);
    expect((ok.body as { message_ids: string[] }).message_ids).toHaveLength(2);
  });

  it('limits the size of a post like Zaqar (global and per queue)', async () => {
    await c.request(frame('queue_create', { queue_name: 'small', metadata: { _max_messages_post_size: 100 } }));
    const r = await c.request(frame('message_post', { queue_name: 'small', messages: [{ body: 'x'.repeat(200) }] }));
    expect(r.headers.status).toBe(400);
    expect(r.body).toEqual({
      exception:
        'Message collection size is too large. The max size for current queue is 100. It is calculated by max size = min(max_messages_post_size_config: 262144, max_messages_post_size_queue: 100).',
      error: null,
    });
    const fits = await c.request(frame('message_post', { queue_name: 'small', messages: [{ body: 'x'.repeat(20) }] }));
    expect(fits.headers.status).toBe(201);
  });

  it('applies claim and delete rules (wrong claim id, 403 on a claimed message)', async () => {
    const q = 'claims';
    const posted = await c.request(frame('message_post', { queue_name: q, messages: [{ body: 'a' }, { body: 'b' }] }));
    const [m1, m2] = (posted.body as { message_ids: string[] }).message_ids;
    const claim = await c.request(frame('claim_create', { queue_name: q, ttl: 60, grace: 60, limit: 1 }));
    expect(claim.headers.status).toBe(201);
    const claimId = (claim.body as { claim_id: string }).claim_id;
    expect(claim.body).toMatchObject({ messages: [{ id: m1, claim_id: claimId, body: 'a' }] });

    const denied = await c.request(frame('message_delete', { queue_name: q, message_id: m1 }));
    expect(denied.headers.status).toBe(403);
    expect(denied.body).toEqual({
      exception: `Message ${m1} is claimed`,
      error: 'This message is claimed; it cannot be deleted without a valid claim ID.',
    });
    const wrong = '00000000-0000-4000-8000-000000000000';
    const bad = await c.request(frame('message_delete', { queue_name: q, message_id: m1, claim_id: wrong }));
    expect(bad.headers.status).toBe(400);
    expect(bad.body).toEqual({
      exception: `Claim ${wrong} does not exist in queue ${q} for project ${PROJECT}`,
      error: 'The specified claim does not exist or has expired.',
    });
    const missing = await c.request(frame('claim_get', { queue_name: q, claim_id: wrong }));
    expect(missing.headers.status).toBe(404);
    expect(missing.body).toEqual({
      exception: `Claim ${wrong} does not exist in queue ${q} for project ${PROJECT}`,
      error: `Claim ${wrong} does not exist.`,
    });
    const range = await c.request(frame('claim_create', { queue_name: q, grace: 43201 }));
    expect(range.body).toEqual({
      exception: 'The grace for a claim may not exceed 43200 seconds, and must be at least 60 seconds long.',
      error: null,
    });
    const ok = await c.request(frame('message_delete', { queue_name: q, message_id: m1, claim_id: claimId }));
    expect(ok).toMatchObject({ body: {}, headers: { status: 204 } });
    const many = await c.request(frame('message_get_many', { queue_name: q, message_ids: [m1, m2] }));
    expect(many.body).toMatchObject({ messages: [{ id: m2, claim_id: null, ttl: 3600, age: 0, body: 'b' }] });
  });

  it('checks message_delete_many like Zaqar', async () => {
    const q = 'bulk';
    const del = (body: Record<string, unknown>): Promise<ResponseLike> =>
      c.request(frame('message_delete_many', { queue_name: q, ...body }));
    expect((await del({ message_ids: ['a'], pop: 1 })).body).toEqual({
      exception: 'pop and id params cannot be present together in the delete request.',
      error: null,
    });
    expect((await del({ pop: 21 })).body).toEqual({
      exception: 'Pop value must be at least 1 and may not be greater than 20.',
      error: null,
    });
    expect((await del({ pop: 0 })).headers.status).toBe(400);
    expect((await del({ message_ids: [] })).body).toEqual({
      exception: 'ids parameter should have at least 1 and not greater than 20 values.',
      error: null,
    });
    expect((await del({ message_ids: Array.from({ length: 21 }, (_, i) => `id${i}`) })).headers.status).toBe(400);
    await c.request(frame('message_post', { queue_name: q, messages: [{ body: 1 }, { body: 2 }] }));
    const popped = await del({ pop: 1 });
    expect(popped.headers.status).toBe(200);
    expect(popped.body).toMatchObject({ messages: [{ age: 0, ttl: 3600, body: 1, claim_id: null, claim_count: 0 }] });
    expect(Object.keys((popped.body as { messages: object[] }).messages[0] ?? {})).toEqual([
      'id',
      'age',
      'ttl',
      'body',
      'claim_id',
      'claim_count',
    ]);
  });

  it('answers queue_get_stats with oldest/newest in the mongo shape', async () => {
    await c.request(frame('message_post', { queue_name: 'stats', messages: [{ body: 1 }, { body: 2 }] }));
    const r = await c.request(frame('queue_get_stats', { queue_name: 'stats' }));
    expect(r.headers.status).toBe(200);
    const m = (r.body as { messages: Record<string, unknown> }).messages;
    expect(Object.keys(m)).toEqual(['claimed', 'free', 'total', 'oldest', 'newest']);
    expect(m['oldest']).toEqual({ id: expect.any(String), age: 0, created: '2026-11-25T21:23:00Z' });
  });

  it('keeps the connection usable after each bad frame', async () => {
    for (const text of ['{', '[]', '{"action": "nope"}', '{"action": "queue_get", "headers": {}}']) {
      c.sendText(text);
      expect(((await c.nextValue()) as ResponseLike).headers.status).toBe(400);
    }
    expect((await c.request(frame('queue_list', {}))).headers.status).toBe(200);
  });

  it('answers binary requests in MessagePack with the same frame', async () => {
    c.sendBinary(frame('queue_create', { queue_name: 'bin' }));
    const got = await c.next();
    expect(got.binary).toBe(true);
    expect(got.value).toEqual({
      request: { action: 'queue_create', body: { queue_name: 'bin' }, headers: hdrs(), api: 'v2' },
      body: 'Queue bin created.',
      headers: { status: 201 },
    });
    // Text and binary interleave per request.
    c.sendBinary(frame('queue_get', { queue_name: 'bin' }));
    c.sendText(frame('queue_get', { queue_name: 'bin' }));
    const [a, b] = [await c.next(), await c.next()];
    expect([a.binary, b.binary]).toEqual([true, false]);
    // Extra data after a MessagePack document is an error, as in Python.
    const packed = encode(frame('queue_list', {}));
    c.sendBinary(Uint8Array.from([...packed, 0xc0]));
    expect(((await c.nextValue()) as ResponseLike).body).toEqual({
      error: "Can't decode binary (MessagePack) request. ExtraData: unpack(b) received extra data.",
    });
  });

  it('refuses a MessagePack binary in a message body with a 400 naming the field, storing nothing', async () => {
    expect((await c.request(frame('queue_create', { queue_name: 'binval' }))).headers.status).toBe(201);
    c.sendBinary(encode(frame('message_post', { queue_name: 'binval', messages: [{ body: { ok: 1, blob: Uint8Array.of(9) } }] })));
    const got = await c.next();
    expect(got.binary).toBe(true);
    expect((got.value as ResponseLike).headers.status).toBe(400);
    expect((got.value as ResponseLike).body).toEqual({
      exception: 'Message body holds a value JSON cannot carry: messages[0].body.blob is binary data (MessagePack bin).',
      error: null,
    });
    const list = await c.request(frame('message_list', { queue_name: 'binval', echo: true }));
    expect(list.body).toEqual({ messages: [] });
  });

  it('isolates projects', async () => {
    const other = hdrs(CLIENT_A, 'other-project');
    await c.request(frame('message_post', { queue_name: 'iso', messages: [{ body: 'mine' }] }));
    expect((await c.request(frame('queue_list', {}, other))).body).toEqual({ queues: [] });
    const listed = await c.request(frame('message_list', { queue_name: 'iso', echo: true }, other));
    expect(listed.headers.status).toBe(404);
    expect(listed.body).toEqual({ exception: 'Queue iso does not exist for project other-project', error: null });
    expect((await c.request(frame('queue_get_stats', { queue_name: 'iso' }, other))).headers.status).toBe(404);
  });

  it('answers a 4 MiB message_post (far above the post size) with the 400 frame and keeps the socket', async () => {
    const s = await h.connect();
    const big = { queue_name: 'big', messages: [{ body: 'x'.repeat(4 * 1024 * 1024) }] };
    // The answer echoes the request (as Zaqar's does): 4 MiB back, more than the default
    // outbound buffer bound, to a peer that reads — not a slow consumer.
    s.sendText(frame('message_post', big));
    const r = (await s.nextValue(30_000)) as ResponseLike;
    expect(r.headers.status).toBe(400);
    expect(r.body).toEqual({ exception: 'Message collection size is too large. Max size 262144', error: null });
    // Still usable, and nothing of the big post was stored.
    expect((await s.request(frame('message_post', { queue_name: 'big', messages: [{ body: 'small' }] }))).headers.status).toBe(201);
    const listed = await s.request(frame('message_list', { queue_name: 'big', echo: true }));
    expect((listed.body as { messages: { body: unknown }[] }).messages.map((m) => m.body)).toEqual(['small']);
    await s.close();
  });

  it('closes a frame above the default hard cap (16 MiB) with 1009', async () => {
    const s = await h.connect();
    s.sendText(frame('message_post', { queue_name: 'huge', messages: [{ body: 'x'.repeat(16 * 1024 * 1024) }] }));
    expect((await s.closed).code).toBe(1009);
  });

  it('closes a frame larger than maxFrameBytes with 1009', async () => {
    const small = await startWs({ ws: { maxFrameBytes: 1024 } });
    try {
      const s = await small.connect();
      s.sendText(frame('message_post', { queue_name: 'big', messages: [{ body: 'x'.repeat(2000) }] }));
      expect((await s.closed).code).toBe(1009);
    } finally {
      await small.close();
    }
  });
});
