/**
 * Replays the queue exchanges of `reference/captures/rest-v2-transcript.md` (real Zaqar 15.0.0)
 * against the REST transport on the in-memory service: statuses, headers and exact bodies.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApp, PATCH_TYPE, type TestApp } from '../fixtures/http-app.js';

const DEFAULTS =
  '"_max_messages_post_size": 262144, "_default_message_ttl": 3600, "_default_message_delay": 0, ' +
  '"_dead_letter_queue": null, "_dead_letter_queue_messages_ttl": null, "_max_claim_count": null, ' +
  '"_enable_encrypt_messages": false';
const JSON_HDR = { 'content-type': 'application/json' };

describe('REST queues (transcript replay)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildHttpApp();
  });
  afterEach(async () => t.close());

  it('creates a queue: 201 then 204, both with Location and an empty body', async () => {
    const first = await t.req({ method: 'PUT', url: '/v2/queues/rq1' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['location']).toBe('/v2/queues/rq1');
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.body).toBe('');
    const again = await t.req({ method: 'PUT', url: '/v2/queues/rq1' });
    expect(again.statusCode).toBe(204);
    expect(again.headers['location']).toBe('/v2/queues/rq1');
    expect(again.body).toBe('');
  });

  it('accepts a dot in the name and rejects bad names before anything else', async () => {
    expect((await t.req({ method: 'PUT', url: '/v2/queues/rq1.dot' })).statusCode).toBe(201);
    for (const url of ['/v2/queues/bad%20name', `/v2/queues/${'a'.repeat(65)}`, '/v2/queues/bad%20name/messages']) {
      const r = await t.req({ method: 'PUT', url });
      expect(r.statusCode, url).toBe(url.endsWith('messages') ? 405 : 400);
      if (r.statusCode === 400) {
        expect(r.body).toBe(
          '{"title": "Invalid queue identification", "description": "The format of the submitted queue name or project id is not valid."}',
        );
      }
    }
    const longProject = await t.req({ method: 'GET', url: '/v2/queues/ok', project: 'p'.repeat(257) });
    expect(longProject.statusCode).toBe(400);
  });

  it('GET fills in the reserved defaults after the user keys, also for a missing queue', async () => {
    await t.req({
      method: 'PUT',
      url: '/v2/queues/rq1_meta',
      headers: JSON_HDR,
      payload: '{"color": "blue", "_default_message_ttl": 120, "_max_messages_post_size": 1024}',
    });
    const meta = await t.req({ method: 'GET', url: '/v2/queues/rq1_meta' });
    expect(meta.statusCode).toBe(200);
    expect(meta.body).toBe(
      '{"color": "blue", "_default_message_ttl": 120, "_max_messages_post_size": 1024, "_default_message_delay": 0, ' +
        '"_dead_letter_queue": null, "_dead_letter_queue_messages_ttl": null, "_max_claim_count": null, "_enable_encrypt_messages": false}',
    );
    const missing = await t.req({ method: 'GET', url: '/v2/queues/rq1_nope' });
    expect(missing.statusCode).toBe(200);
    expect(missing.body).toBe(`{${DEFAULTS}}`);
  });

  it('rejects bad metadata documents with Zaqar texts', async () => {
    const cases: [string, number, string][] = [
      ['[1,2]', 400, '{"title": "Invalid request body", "description": "Document type not supported."}'],
      ['{nope', 400, '{"title": "Invalid request body", "description": "Request body could not be parsed."}'],
      ['{"_default_message_ttl": 10}', 400,
        '{"title": "Invalid API request", "description": "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."}'],
      [`{"k": "${'x'.repeat(70000)}"}`, 400, '{"title": "Invalid API request", "description": "Queue metadata is too large. Max size: 65536"}'],
      ['{"n": 9223372036854775808}', 400, '{"title": "Invalid request body", "description": "JSON contains integer that is too large."}'],
    ];
    for (const [payload, status, body] of cases) {
      const r = await t.req({ method: 'PUT', url: '/v2/queues/rq1_bad', headers: JSON_HDR, payload });
      expect(r.statusCode, payload.slice(0, 30)).toBe(status);
      expect(r.headers['vary']).toBe('Accept');
      expect(r.body).toBe(body);
    }
    const ok = await t.req({ method: 'PUT', url: '/v2/queues/rq1_big_int', headers: JSON_HDR, payload: '{"n": 9223372036854775807}' });
    expect(ok.statusCode).toBe(201);
  });

  it('lists queues with marker/limit/detailed/with_count and next links until an empty page', async () => {
    for (const q of ['qa', 'qb', 'qc']) await t.req({ method: 'PUT', url: `/v2/queues/${q}` });
    const limit1 = await t.req({ method: 'GET', url: '/v2/queues?limit=1' });
    expect(limit1.body).toBe(
      '{"queues": [{"name": "qa", "href": "/v2/queues/qa"}], "links": [{"rel": "next", "href": "/v2/queues?limit=1&marker=qa"}]}',
    );
    const detailed = await t.req({ method: 'GET', url: '/v2/queues?detailed=true&with_count=true&limit=2' });
    expect(detailed.body).toBe(
      `{"queues": [{"name": "qa", "metadata": {${DEFAULTS}}, "href": "/v2/queues/qa"}, ` +
        `{"name": "qb", "metadata": {${DEFAULTS}}, "href": "/v2/queues/qb"}], ` +
        '"links": [{"rel": "next", "href": "/v2/queues?limit=2&detailed=true&with_count=true&marker=qb"}], "count": 3}',
    );
    const names: string[] = [];
    let href = '/v2/queues?limit=2';
    for (let page = 0; page < 5; page++) {
      const r = JSON.parse((await t.req({ method: 'GET', url: href })).body) as {
        queues: { name: string }[];
        links: { rel: string; href: string }[];
      };
      if (r.queues.length === 0) {
        expect(r.links).toEqual([]);
        break;
      }
      names.push(...r.queues.map((q) => q.name));
      href = r.links[0]?.href ?? '';
    }
    expect(names).toEqual(['qa', 'qb', 'qc']);
    const nextAfterMarker = await t.req({ method: 'GET', url: '/v2/queues?marker=qa&limit=1' });
    expect(nextAfterMarker.body).toContain('"href": "/v2/queues?marker=qb&limit=1"');
  });

  it('validates list parameters', async () => {
    for (const limit of ['0', '21']) {
      const r = await t.req({ method: 'GET', url: `/v2/queues?limit=${limit}` });
      expect(r.statusCode).toBe(400);
      expect(r.body).toBe('{"title": "Invalid API request", "description": "Limit must be at least 1 and no greater than 20."}');
    }
    const abc = await t.req({ method: 'GET', url: '/v2/queues?limit=abc' });
    expect(abc.body).toBe(
      '{"title": "Invalid parameter", "description": "The \\"limit\\" parameter is invalid. The value must be an integer."}',
    );
    const blank = await t.req({ method: 'GET', url: '/v2/queues?limit=&detailed=' });
    expect(blank.statusCode).toBe(200);
    const badBool = await t.req({ method: 'GET', url: '/v2/queues?detailed=maybe' });
    expect(badBool.body).toBe(
      '{"title": "Invalid parameter", "description": "The \\"detailed\\" parameter is invalid. The value of the parameter must be \\"true\\" or \\"false\\"."}',
    );
  });

  it('isolates projects', async () => {
    await t.req({ method: 'PUT', url: '/v2/queues/mine' });
    const other = await t.req({ method: 'GET', url: '/v2/queues', project: 'other-proj' });
    expect(other.body).toBe('{"queues": [], "links": []}');
  });

  it('PATCHes metadata with JSON-patch and Zaqar texts', async () => {
    await t.req({ method: 'PUT', url: '/v2/queues/rq1' });
    const patch = (payload: string, type = PATCH_TYPE, url = '/v2/queues/rq1') =>
      t.req({ method: 'PATCH', url, headers: { 'content-type': type }, payload });
    const wrongType = await patch('[{"op": "add", "path": "/metadata/a", "value": 1}]', 'application/json');
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.body).toBe(
      "{\"title\": \"Accepted media type for PATCH: {'Accept-Patch': 'application/openstack-messaging-v2.0-json-patch'}.\"}",
    );
    const add = await patch(
      '[{"op": "add", "path": "/metadata/a", "value": 1}, {"op": "replace", "path": "/metadata/_default_message_ttl", "value": 600}]',
    );
    expect(add.statusCode).toBe(200);
    expect(add.body).toBe(
      '{"a": 1, "_default_message_ttl": 600, "_max_messages_post_size": 262144, "_default_message_delay": 0, ' +
        '"_dead_letter_queue": null, "_dead_letter_queue_messages_ttl": null, "_max_claim_count": null, "_enable_encrypt_messages": false}',
    );
    const errorsExpected: [string, number, string][] = [
      ['[{"op": "replace", "path": "/metadata/zzz", "value": 1}]', 409,
        '{"title": "Resource conflict", "description": "Can\'t replace non-existent object zzz."}'],
      ['[{"op": "remove", "path": "/metadata/zzz"}]', 409,
        '{"title": "Resource conflict", "description": "Can\'t remove non-existent object zzz."}'],
      ['[{"op": "add", "path": "/foo/a", "value": 1}]', 400,
        '{"title": "Invalid request body", "description": "The root of path must be metadata, e.g /metadata/key."}'],
      ['[{"op": "move", "path": "/metadata/a", "value": 1}]', 400,
        '{"title": "Invalid request body", "description": "Invalid operation: `move`. It must be one of the following: add, remove, replace."}'],
      ['[{"op": "add", "path": "/a/b/c", "value": 1}]', 400,
        '{"title": "Invalid request body", "description": "Invalid JSON pointer for this resource: \'/a/b/c, e.g /metadata/key\'"}'],
      ['[{"op": "add", "path": "/metadata/a"}]', 400,
        '{"title": "Invalid request body", "description": "Operation \\"add\\" requires a member named \\"value\\"."}'],
      ['{"op": "add"}', 400,
        '{"title": "Invalid request body", "description": "Request body must be a JSON array of operation objects."}'],
      ['[{"op": "replace", "path": "/metadata/_default_message_ttl", "value": "x"}]', 400,
        '{"title": "Invalid request body", "description": "_default_message_ttl must be integer."}'],
    ];
    for (const [payload, status, body] of errorsExpected) {
      const r = await patch(payload);
      expect(r.statusCode, payload).toBe(status);
      expect(r.body, payload).toBe(body);
    }
    const empty = await t.req({ method: 'PATCH', url: '/v2/queues/rq1', headers: { 'content-type': PATCH_TYPE } });
    expect(empty.body).toBe('{"title": "Invalid request body", "description": "PATCH body could not be empty for update."}');
    const nope = await patch('[{"op": "add", "path": "/metadata/a", "value": 1}]', PATCH_TYPE, '/v2/queues/rq1_nope');
    expect(nope.statusCode).toBe(404);
    expect(nope.body).toBe('{"title": "Not found", "description": "Queue rq1_nope does not exist for project proj-rest"}');
    const remove = await patch('[{"op": "remove", "path": "/metadata/a"}, {"op": "remove", "path": "/metadata/_default_message_ttl"}]');
    expect(remove.body).toBe(`{${DEFAULTS}}`);
  });

  it('stats: zeros for an empty or missing queue, oldest/newest as {age, created, href}', async () => {
    const zeros = '{"messages": {"claimed": 0, "free": 0, "total": 0}}';
    expect((await t.req({ method: 'GET', url: '/v2/queues/nope/stats' })).body).toBe(zeros);
    await t.req({ method: 'PUT', url: '/v2/queues/rq1' });
    expect((await t.req({ method: 'GET', url: '/v2/queues/rq1/stats' })).body).toBe(zeros);
    const post = await t.req({ method: 'POST', url: '/v2/queues/rq1/messages', headers: JSON_HDR, payload: '{"messages": [{"body": 1}, {"body": 2}]}' });
    const [a, b] = (JSON.parse(post.body) as { resources: string[] }).resources;
    t.clock.advance(7);
    const stats = await t.req({ method: 'GET', url: '/v2/queues/rq1/stats' });
    expect(stats.body).toBe(
      '{"messages": {"claimed": 0, "free": 2, "total": 2, ' +
        `"oldest": {"age": 7, "created": "2026-11-25T21:08:33Z", "href": "${a}"}, ` +
        `"newest": {"age": 7, "created": "2026-11-25T21:08:33Z", "href": "${b}"}}}`,
    );
  });

  it('purges with resource_types validation, and deletes idempotently', async () => {
    await t.req({ method: 'PUT', url: '/v2/queues/rq1' });
    const bad = await t.req({ method: 'POST', url: '/v2/queues/rq1/purge', headers: JSON_HDR, payload: '{"resource_types": ["queues"]}' });
    expect(bad.body).toBe(
      '{"title": "Invalid API request", "description": "Resource types must be a sub set of {\'messages\', \'subscriptions\'}."}',
    );
    const missingKey = await t.req({ method: 'POST', url: '/v2/queues/rq1/purge', headers: JSON_HDR, payload: '{}' });
    expect(missingKey.body).toBe('{"title": "Invalid API request", "description": "Post body must contain key \\"resource_types\\"."}');
    await t.req({ method: 'POST', url: '/v2/queues/rq1/messages', headers: JSON_HDR, payload: '{"messages": [{"body": 1}]}' });
    const purge = await t.req({ method: 'POST', url: '/v2/queues/rq1/purge', headers: JSON_HDR, payload: '{"resource_types": ["messages"]}' });
    expect(purge.statusCode).toBe(204);
    expect((await t.req({ method: 'GET', url: '/v2/queues/rq1/stats' })).body).toContain('"total": 0');
    expect((await t.req({ method: 'POST', url: '/v2/queues/rq1/purge' })).statusCode).toBe(204);
    expect((await t.req({ method: 'DELETE', url: '/v2/queues/rq1' })).statusCode).toBe(204);
    expect((await t.req({ method: 'DELETE', url: '/v2/queues/rq1' })).statusCode).toBe(204);
    expect((await t.req({ method: 'GET', url: '/v2/queues' })).body).toBe('{"queues": [], "links": []}');
  });

  it('share answers as a Zaqar without a signing key', async () => {
    const r = await t.req({ method: 'POST', url: '/v2/queues/rq1/share', headers: JSON_HDR, payload: '{"methods": ["GET"]}' });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe('{"title": "Invalid API request", "description": "The `key` can\'t be None"}');
  });
});
