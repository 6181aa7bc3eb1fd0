/**
 * Messages and claims over REST, replaying the transcript's exchanges (ids and ages
 * normalised through the fake clock) and python-zaqarclient's habits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApp, CLIENT2, idOf, type TestApp } from '../fixtures/http-app.js';

const JSON_HDR = { 'content-type': 'application/json' };

interface MessageJson {
  id: string;
  href: string;
  ttl: number;
  age: number;
  body: unknown;
}
interface Page {
  messages: MessageJson[];
  links: { rel: string; href: string }[];
}

describe('REST messages and claims (transcript replay)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildHttpApp();
  });
  afterEach(async () => t.close());

  async function post(queue: string, payload: string, client?: string): Promise<string[]> {
    const r = await t.req({ method: 'POST', url: `/v2/queues/${queue}/messages`, headers: JSON_HDR, payload, ...(client && { client }) });
    expect(r.statusCode, r.body).toBe(201);
    return (JSON.parse(r.body) as { resources: string[] }).resources.map(idOf);
  }

  it('refuses a number that parses to Infinity (1e400) with a 400 naming the field, storing nothing', async () => {
    const r = await t.req({ method: 'POST', url: '/v2/queues/rinf/messages', headers: JSON_HDR, payload: '{"messages": [{"body": {"n": 1e400}}]}' });
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body)).toEqual({
      title: 'Invalid API request',
      description: 'Message body holds a value JSON cannot carry: messages[0].body.n is the number Infinity.',
    });
    const list = await t.req({ method: 'GET', url: '/v2/queues/rinf/messages?echo=true' });
    expect(list.statusCode).toBe(200);
    expect((JSON.parse(list.body) as Page).messages).toEqual([]);
  });

  it('posts: 201, resources and Location with ?ids=a,b (auto-creating the queue)', async () => {
    const r = await t.req({
      method: 'POST',
      url: '/v2/queues/rq1/messages',
      headers: JSON_HDR,
      payload: '{"messages": [{"body": {"event": "one"}, "ttl": 300}, {"body": "two"}, {"body": [1, 2, 3], "ttl": 60}]}',
    });
    expect(r.statusCode).toBe(201);
    const ids = (JSON.parse(r.body) as { resources: string[] }).resources.map(idOf);
    expect(ids).toHaveLength(3);
    expect(r.headers['location']).toBe(`/v2/queues/rq1/messages?ids=${ids.join(',')}`);
    expect(r.body).toBe(`{"resources": [${ids.map((id) => `"/v2/queues/rq1/messages/${id}"`).join(', ')}]}`);
    const one = await t.req({ method: 'GET', url: `/v2/queues/rq1/messages/${ids[0]}` });
    expect(one.body).toBe(
      `{"id": "${ids[0]}", "href": "/v2/queues/rq1/messages/${ids[0]}", "ttl": 300, "age": 0, "body": {"event": "one"}}`,
    );
  });

  it('rejects bad posts with the REST texts', async () => {
    const cases: [string, string][] = [
      ['{"messages": [{"body": 1, "ttl": 59}]}',
        '{"title": "Invalid API request", "description": "The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long."}'],
      ['{"messages": [{"body": 1, "ttl": 1209601}]}',
        '{"title": "Invalid API request", "description": "The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long."}'],
      ['{"messages": [{"body": 1, "ttl": "300"}]}',
        '{"title": "Invalid request body", "description": "The value of the \\"ttl\\" field must be a int."}'],
      ['{"messages": [{"ttl": 300}]}', '{"title": "Invalid request body", "description": "Missing \\"body\\" field."}'],
      ['{"foo": []}', '{"title": "Invalid API request", "description": "No messages were found in the request body."}'],
      ['[{"body": 1}]', '{"title": "Invalid API request", "description": "No messages were found in the request body."}'],
      ['{"messages": []}', '{"title": "Invalid API request", "description": "No messages to enqueu."}'],
      ['{"messages": {"body": 1}}', '{"title": "Invalid request body", "description": "Document type not supported."}'],
      ['', '{"title": "Invalid request body", "description": "Request body could not be parsed."}'],
      ['"scalar"', '{"title": "Invalid request body", "description": "Request body could not be parsed."}'],
    ];
    for (const [payload, body] of cases) {
      const r = await t.req({ method: 'POST', url: '/v2/queues/rq1/messages', headers: { ...JSON_HDR, 'content-length': String(Buffer.byteLength(payload)) }, payload });
      expect(r.statusCode, payload).toBe(400);
      expect(r.body, payload).toBe(body);
    }
    // `delay` is dropped on queues without a delay, even out of range.
    await post('rq1', '{"messages": [{"body": 1, "delay": 901}]}');
  });

  it('enforces the post size: global text, then the per-queue text', async () => {
    await t.req({ method: 'PUT', url: '/v2/queues/rq1_meta', headers: JSON_HDR, payload: '{"_max_messages_post_size": 1024, "_default_message_ttl": 120}' });
    const big = `{"messages": [{"body": "${'x'.repeat(1100)}"}]}`;
    const perQueue = await t.req({ method: 'POST', url: '/v2/queues/rq1_meta/messages', headers: JSON_HDR, payload: big });
    expect(perQueue.body).toBe(
      '{"title": "Invalid API request", "description": "Message collection size is too large. The max size for current queue is 1024. ' +
        'It is calculated by max size = min(max_messages_post_size_config: 262144, max_messages_post_size_queue: 1024)."}',
    );
    const huge = `{"messages": [{"body": "${'x'.repeat(262_200)}"}]}`;
    const global = await t.req({ method: 'POST', url: '/v2/queues/rq1/messages', headers: JSON_HDR, payload: huge });
    expect(global.body).toBe('{"title": "Invalid API request", "description": "Message collection size is too large. Max size 262144"}');
    const [id] = await post('rq1_meta', '{"messages": [{"body": "y"}]}');
    const m = JSON.parse((await t.req({ method: 'GET', url: `/v2/queues/rq1_meta/messages/${id}` })).body) as MessageJson;
    expect(m.ttl).toBe(120);
  });

  it('accepts a 1 MiB post when the limit is configured to 1 MiB', async () => {
    const big = await buildHttpApp({ limits: { maxMessagesPostSize: 1024 * 1024 } });
    try {
      const payload = `{"messages": [{"body": "${'x'.repeat(1024 * 1024 - 40)}"}]}`;
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(1024 * 1024);
      const r = await big.req({ method: 'POST', url: '/v2/queues/big/messages', headers: JSON_HDR, payload });
      expect(r.statusCode, r.body.slice(0, 200)).toBe(201);
      const over = await big.req({ method: 'POST', url: '/v2/queues/big/messages', headers: JSON_HDR, payload: payload + ' '.repeat(41) });
      expect(over.body).toBe('{"title": "Invalid API request", "description": "Message collection size is too large. Max size 1048576"}');
    } finally {
      await big.close();
    }
  });

  it('lists: echo off by default, include_delayed forced into the next link, paging until empty', async () => {
    const mine = await post('rq1', '{"messages": [{"body": {"event": "one"}, "ttl": 300}, {"body": "two"}, {"body": [1, 2, 3], "ttl": 60}]}');
    const theirs = await post('rq1', '{"messages": [{"body": "from-client-2"}]}', CLIENT2);
    const own = await t.req({ method: 'GET', url: '/v2/queues/rq1/messages' });
    const ownPage = JSON.parse(own.body) as Page;
    expect(ownPage.messages.map((m) => m.id)).toEqual(theirs);
    expect(own.body).toBe(
      `{"messages": [{"id": "${theirs[0]}", "href": "/v2/queues/rq1/messages/${theirs[0]}", "ttl": 3600, "age": 0, "body": "from-client-2"}], ` +
        `"links": [{"rel": "next", "href": "/v2/queues/rq1/messages?include_delayed=true&marker=${ownPage.links[0]?.href.split('marker=')[1]}"}]}`,
    );
    const first = await t.req({ method: 'GET', url: '/v2/queues/rq1/messages?echo=true&limit=2' });
    const page1 = JSON.parse(first.body) as Page;
    expect(page1.messages.map((m) => m.id)).toEqual(mine.slice(0, 2));
    expect(page1.links[0]?.href).toMatch(/^\/v2\/queues\/rq1\/messages\?limit=2&echo=true&include_delayed=true&marker=[^&]+$/);
    const seen: string[] = [];
    let href = '/v2/queues/rq1/messages?echo=True&limit=2';
    for (let i = 0; i < 10; i++) {
      const page = JSON.parse((await t.req({ method: 'GET', url: href })).body) as Page;
      if (page.messages.length === 0) {
        expect(page.links).toEqual([]);
        break;
      }
      seen.push(...page.messages.map((m) => m.id));
      href = page.links[0]?.href ?? '';
      expect(href.startsWith('/v2/')).toBe(true);
    }
    expect(seen).toEqual([...mine, ...theirs]);
    const followed = await t.req({ method: 'GET', url: page1.links[0]?.href ?? '' });
    expect((JSON.parse(followed.body) as Page).links[0]?.href).toMatch(/\?marker=[^&]+&limit=2&echo=true&include_delayed=true$/);
    const bad = await t.req({ method: 'GET', url: '/v2/queues/rq1/messages?limit=21' });
    expect(bad.body).toBe('{"title": "Invalid API request", "description": "Limit must be at least 1 and may not be greater than 20."}');
    const badEcho = await t.req({ method: 'GET', url: '/v2/queues/rq1/messages?echo=perhaps' });
    expect(badEcho.body).toContain('The \\"echo\\" parameter is invalid. The value of the parameter must be \\"true\\" or \\"false\\".');
    expect((await t.req({ method: 'GET', url: '/v2/queues/nope/messages' })).body).toBe('{"messages": [], "links": []}');
  });

  it('honours delay on delay queues only, and the delay range text', async () => {
    await t.req({ method: 'PUT', url: '/v2/queues/dq', headers: JSON_HDR, payload: '{"_default_message_delay": 30}' });
    const [delayed, now] = await post('dq', '{"messages": [{"body": "delayed"}, {"body": "now", "delay": 0}]}');
    const bad = await t.req({ method: 'POST', url: '/v2/queues/dq/messages', headers: JSON_HDR, payload: '{"messages": [{"body": "x", "delay": 901}]}' });
    expect(bad.body).toBe(
      '{"title": "Invalid API request", "description": "The Delay TTL for a message may not exceed 900 seconds,and must be at least 0 seconds long."}',
    );
    const visible = JSON.parse((await t.req({ method: 'GET', url: '/v2/queues/dq/messages', client: CLIENT2 })).body) as Page;
    expect(visible.messages.map((m) => m.id)).toEqual([now]);
    expect(visible.links[0]?.href).toMatch(/^\/v2\/queues\/dq\/messages\?marker=/);
    const all = JSON.parse((await t.req({ method: 'GET', url: '/v2/queues/dq/messages?include_delayed=true', client: CLIENT2 })).body) as Page;
    expect(all.messages.map((m) => m.id)).toEqual([delayed, now]);
  });

  it('gets many by ids (comma list or repeated keys), 404 when none found', async () => {
    const ids = await post('rq1', '{"messages": [{"body": 1}, {"body": 2}, {"body": 3}]}');
    const comma = await t.req({ method: 'GET', url: `/v2/queues/rq1/messages?ids=${ids[0]},${ids[1]}` });
    expect((JSON.parse(comma.body) as { messages: MessageJson[] }).messages.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(comma.body).not.toContain('links');
    const repeated = await t.req({ method: 'GET', url: `/v2/queues/rq1/messages?ids=${ids[1]}&ids=${ids[2]}` });
    expect((JSON.parse(repeated.body) as { messages: MessageJson[] }).messages.map((m) => m.id)).toEqual(ids.slice(1));
    const none = await t.req({ method: 'GET', url: '/v2/queues/rq1/messages?ids=00000000-0000-4000-8000-000000000000' });
    expect(none.statusCode).toBe(404);
    expect(none.body).toBe(
      '{"title": "Not found", "description": "No messages with IDs: [\'00000000-0000-4000-8000-000000000000\'] found in the queue rq1 for project proj-rest."}',
    );
    const many = Array.from({ length: 21 }, (_, i) => `id${i}`).join(',');
    const tooMany = await t.req({ method: 'GET', url: `/v2/queues/rq1/messages?ids=${many}` });
    expect(tooMany.body).toBe('{"title": "Invalid API request", "description": "Limit must be at least 1 and may not be greater than 20."}');
    const missing = await t.req({ method: 'GET', url: '/v2/queues/rq1/messages/00000000-0000-4000-8000-000000000000' });
    expect(missing.body).toBe(
      '{"title": "Not found", "description": "Message 00000000-0000-4000-8000-000000000000 does not exist in queue rq1 for project proj-rest"}',
    );
  });

  it('claims: 201 with claim hrefs and Location, get, update, the 403/400 delete rules, release, 204 when empty', async () => {
    const ids = await post('rq1', '{"messages": [{"body": {"event": "one"}, "ttl": 300}, {"body": "two"}, {"body": [1, 2, 3], "ttl": 60}]}');
    const claim = await t.req({ method: 'POST', url: '/v2/queues/rq1/claims?limit=2', headers: JSON_HDR, payload: '{"ttl": 60, "grace": 60}' });
    expect(claim.statusCode).toBe(201);
    const claimed = (JSON.parse(claim.body) as { messages: MessageJson[] }).messages;
    const cid = claimed[0]?.href.split('=').pop() ?? '';
    expect(claim.headers['location']).toBe(`/v2/queues/rq1/claims/${cid}`);
    expect(claim.body).toBe(
      `{"messages": [{"id": "${ids[0]}", "href": "/v2/queues/rq1/messages/${ids[0]}?claim_id=${cid}", "ttl": 300, "age": 0, "body": {"event": "one"}}, ` +
        `{"id": "${ids[1]}", "href": "/v2/queues/rq1/messages/${ids[1]}?claim_id=${cid}", "ttl": 3600, "age": 0, "body": "two"}]}`,
    );
    const got = await t.req({ method: 'GET', url: `/v2/queues/rq1/claims/${cid}` });
    expect(got.body).toBe(
      `{"age": 0, "ttl": 60, "messages": [{"id": "${ids[0]}", "href": "/v2/queues/rq1/messages/${ids[0]}?claim_id=${cid}", "ttl": 300, "age": 0, "body": {"event": "one"}}, ` +
        `{"id": "${ids[1]}", "href": "/v2/queues/rq1/messages/${ids[1]}?claim_id=${cid}", "ttl": 3600, "age": 0, "body": "two"}], "href": "/v2/queues/rq1/claims/${cid}"}`,
    );
    const byId = JSON.parse((await t.req({ method: 'GET', url: `/v2/queues/rq1/messages/${ids[0]}` })).body) as MessageJson;
    expect(byId.href).toBe(`/v2/queues/rq1/messages/${ids[0]}?claim_id=${cid}`);
    const update = await t.req({ method: 'PATCH', url: `/v2/queues/rq1/claims/${cid}`, headers: JSON_HDR, payload: '{"ttl": 120, "grace": 60}' });
    expect(update.statusCode).toBe(204);
    expect(JSON.parse((await t.req({ method: 'GET', url: `/v2/queues/rq1/claims/${cid}` })).body)).toMatchObject({ ttl: 120 });
    const emptyUpdate = await t.req({ method: 'PATCH', url: `/v2/queues/rq1/claims/${cid}`, headers: { ...JSON_HDR, 'content-length': '0' }, payload: '' });
    expect(emptyUpdate.body).toBe('{"title": "Invalid request body", "description": "Request body could not be parsed."}');

    const del = (id: string, q = '') => t.req({ method: 'DELETE', url: `/v2/queues/rq1/messages/${id}${q}` });
    const noClaim = await del(ids[0] ?? '');
    expect(noClaim.statusCode).toBe(403);
    expect(noClaim.body).toBe('{"title": "Unable to delete", "description": "This message is claimed; it cannot be deleted without a valid claim ID."}');
    for (const wrong of ['00000000-0000-4000-8000-000000000000', 'abc']) {
      const r = await del(ids[0] ?? '', `?claim_id=${wrong}`);
      expect(r.statusCode).toBe(400);
      expect(r.body).toBe('{"title": "Unable to delete", "description": "The specified claim does not exist or has expired."}');
    }
    expect((await del(ids[0] ?? '', `?claim_id=${cid}`)).statusCode).toBe(204);
    const unclaimed = await del(ids[2] ?? '', `?claim_id=${cid}`);
    expect([400, 403]).toContain(unclaimed.statusCode);
    expect(JSON.parse(unclaimed.body)).toMatchObject({ title: 'Unable to delete' });
    expect((await del('00000000-0000-4000-8000-000000000000')).statusCode).toBe(204);

    expect((await t.req({ method: 'DELETE', url: `/v2/queues/rq1/claims/${cid}` })).statusCode).toBe(204);
    expect((await t.req({ method: 'DELETE', url: `/v2/queues/rq1/claims/${cid}` })).statusCode).toBe(204);
    const gone = await t.req({ method: 'GET', url: `/v2/queues/rq1/claims/${cid}` });
    expect(gone.body).toBe(`{"title": "Not found", "description": "Claim ${cid} does not exist in queue rq1 for project proj-rest"}`);

    const empty = await t.req({ method: 'POST', url: '/v2/queues/rq1_empty/claims', headers: JSON_HDR, payload: '{"ttl": 60, "grace": 60}' });
    expect(empty.statusCode).toBe(204);
    expect(empty.body).toBe('');
  });

  it('claim with defaults (no body) extends short messages to ttl + grace, and validates', async () => {
    await post('rq1', '{"messages": [{"body": [1, 2, 3], "ttl": 60}]}');
    const r = await t.req({ method: 'POST', url: '/v2/queues/rq1/claims?limit=1', headers: JSON_HDR, payload: '{"grace": 60}' });
    expect((JSON.parse(r.body) as { messages: MessageJson[] }).messages[0]?.ttl).toBe(360);
    const cases: [string, string, string][] = [
      ['', '{"ttl": 10, "grace": 60}', 'The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long.'],
      ['', '{"ttl": 60, "grace": 10}', 'The grace for a claim may not exceed 43200 seconds, and must be at least 60 seconds long.'],
      ['?limit=21', '{"ttl": 60, "grace": 60}', 'Limit must be at least 1 and may not be greater than 20.'],
    ];
    for (const [query, payload, text] of cases) {
      const bad = await t.req({ method: 'POST', url: `/v2/queues/rq1/claims${query}`, headers: JSON_HDR, payload });
      expect(bad.body).toBe(`{"title": "Invalid API request", "description": "${text}"}`);
    }
    const notInt = await t.req({ method: 'POST', url: '/v2/queues/rq1/claims', headers: JSON_HDR, payload: '{"ttl": "60"}' });
    expect(notInt.body).toBe('{"title": "Invalid request body", "description": "The value of the \\"ttl\\" field must be a int."}');
  });

  it('bulk delete and pop rules', async () => {
    const ids = await post('rq1', '{"messages": [{"body": 1}, {"body": 2}, {"body": 3}]}');
    const texts: [string, string][] = [
      ['', 'The request should have either \\"ids\\" or \\"pop\\" parameter in the request, to be able to delete.'],
      [`?ids=${ids[0]}&pop=1`, 'pop and id params cannot be present together in the delete request.'],
      ['?pop=0', 'Pop value must be at least 1 and may not be greater than 20.'],
      ['?pop=21', 'Pop value must be at least 1 and may not be greater than 20.'],
      [`?ids=${Array.from({ length: 21 }, (_, i) => `x${i}`).join(',')}`, 'ids parameter should have at least 1 and not greater than 20 values.'],
    ];
    for (const [q, text] of texts) {
      const r = await t.req({ method: 'DELETE', url: `/v2/queues/rq1/messages${q}` });
      expect(r.body, q).toBe(`{"title": "Invalid API request", "description": "${text}"}`);
    }
    const claim = await t.req({ method: 'POST', url: '/v2/queues/rq1/claims?limit=1' });
    expect(claim.statusCode).toBe(201);
    // Bulk delete ignores claims (python-zaqarclient sends repeated ids=).
    const bulk = await t.req({ method: 'DELETE', url: `/v2/queues/rq1/messages?ids=${ids[0]}&ids=${ids[1]}` });
    expect(bulk.statusCode).toBe(204);
    const pop = await t.req({ method: 'DELETE', url: '/v2/queues/rq1/messages?pop=2' });
    expect(pop.statusCode).toBe(200);
    const popped = JSON.parse(pop.body) as { messages: Record<string, unknown>[] };
    expect(popped.messages.map((m) => m['id'])).toEqual([ids[2]]);
    expect(Object.keys(popped.messages[0] ?? {})).toEqual(['id', 'age', 'ttl', 'body', 'claim_id', 'claim_count']);
    expect((await t.req({ method: 'DELETE', url: '/v2/queues/rq1/messages?pop=2' })).body).toBe('{"messages": []}');
  });
});
