/**
 * Before-hooks, routing, home/versions/ping/health, subscriptions, schemas, error shapes and
 * a real socket, as real Zaqar answers them (reference §4, transcript).
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errors } from '../../src/core/errors.js';
import type { ZaqarService } from '../../src/core/types.js';
import { buildHttpApp, CLIENT, type TestApp } from '../fixtures/http-app.js';

const JSON_HDR = { 'content-type': 'application/json' };
const VERSIONS =
  '{"versions": [{"id": "2", "status": "CURRENT", "updated": "2014-9-24T04:06:47Z", "media-types": [{"base": "application/json", "type": "application/vnd.openstack.messaging-v2+json"}], "links": [{"href": "/v2/", "rel": "self"}]}]}';

describe('REST protocol rules', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildHttpApp();
  });
  afterEach(async () => t.close());

  it('GET / answers 300 with the versions document, listing only v2 (the one served), and needs no headers', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(300);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toBe(VERSIONS);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(VERSIONS)));
    // What it lists is served; what Zaqar lists besides (v1, v1.1) is not, so it is not listed.
    for (const v of (JSON.parse(r.body) as { versions: { links: { href: string }[] }[] }).versions) {
      expect((await t.req({ method: 'GET', url: v.links[0]?.href ?? '' })).statusCode).toBe(200);
    }
    expect((await t.req({ method: 'GET', url: '/v1.1/' })).statusCode).toBe(404);
  });

  it('GET /v2/ serves the home document verbatim; /v2 is 404', async () => {
    const home = await t.req({ method: 'GET', url: '/v2/' });
    expect(home.statusCode).toBe(200);
    expect(home.headers['content-type']).toBe('application/json-home');
    expect(home.headers['cache-control']).toBe('max-age=86400');
    // home-doc.json is a verbatim copy of reference/captures/v2-homedoc.json (11457 bytes).
    expect(home.body).toBe(readFileSync(new URL('../../src/transports/http/home-doc.json', import.meta.url), 'utf8'));
    expect(home.headers['content-length']).toBe('11457');
    const noSlash = await t.req({ method: 'GET', url: '/v2' });
    expect(noSlash.statusCode).toBe(404);
    expect(noSlash.body).toBe('{"title": "404 Not Found"}');
    expect(noSlash.headers['vary']).toBe('Accept');
  });

  it('ping: GET and HEAD 204', async () => {
    for (const method of ['GET', 'HEAD'] as const) {
      const r = await t.req({ method, url: '/v2/ping' });
      expect(r.statusCode).toBe(204);
      expect(r.body).toBe('');
    }
  });

  it('health: 403 without the admin role, 200 with every operation exercised', async () => {
    const denied = await t.req({ method: 'GET', url: '/v2/health' });
    expect(denied.statusCode).toBe(403);
    expect(denied.body).toBe('{"title": "Not authorized", "description": "You are not authorized to complete this action."}');
    const ok = await t.req({ method: 'GET', url: '/v2/health', headers: { 'x-roles': 'member,admin' } });
    expect(ok.statusCode).toBe(200);
    const body = JSON.parse(ok.body) as { storage_reachable: boolean; operation_status: Record<string, { succeeded: boolean; ref: null }> };
    expect(body.storage_reachable).toBe(true);
    expect(Object.keys(body.operation_status)).toEqual([
      'create_queue', 'post_messages', 'claim_messages', 'list_messages',
      'delete_messages', 'delete_claim', 'bulk_delete_messages', 'delete_queue',
    ]);
    for (const [op, s] of Object.entries(body.operation_status)) expect(s.succeeded, op).toBe(true);
    expect((await t.req({ method: 'GET', url: '/v2/queues' })).body).toBe('{"queues": [], "links": []}');
  });

  it('runs the before-hooks in Zaqar order with its texts', async () => {
    const missingClient = await t.app.inject({ method: 'GET', url: '/v2/queues', headers: { 'x-project-id': 'p' } });
    expect(missingClient.body).toBe('{"title": "Missing header value", "description": "The \\"Client-ID\\" header is required."}');
    const badClient = await t.req({ method: 'GET', url: '/v2/queues', client: 'not-a-uuid' });
    expect(badClient.body).toBe('{"title": "Wrong UUID value", "description": "Malformed hexadecimal UUID."}');
    for (const client of ['3381af922b9e11e3b19171861300734c', '{3381af92-2b9e-11e3-b191-71861300734c}', 'urn:uuid:3381af92-2b9e-11e3-b191-71861300734c', '3381AF92-2B9E-11E3-B191-71861300734C', '3381af92-2b9e11e3-b191-71861300734c']) {
      expect((await t.req({ method: 'GET', url: '/v2/queues', client })).statusCode, client).toBe(200);
    }
    const missingProject = await t.app.inject({ method: 'GET', url: '/v2/queues', headers: { 'client-id': CLIENT } });
    expect(missingProject.body).toBe('{"title": "Project-Id Missing", "description": "The header X-PROJECT-ID was missing"}');
    const emptyProject = await t.req({ method: 'GET', url: '/v2/queues', project: '' });
    expect(emptyProject.body).toBe(
      '{"title": "Empty project header not allowed", "description": "X-PROJECT-ID cannot be an empty string. Specify the right header X-PROJECT-ID and retry."}',
    );
    const casing = await t.app.inject({ method: 'PUT', url: '/v2/queues/cased', headers: { 'Client-ID': CLIENT, 'X-Project-Id': 'fake_project_id_for_noauth' } });
    expect(casing.statusCode).toBe(201);
    const notAcceptable = await t.req({ method: 'GET', url: '/v2/queues', headers: { accept: 'text/plain' } });
    expect(notAcceptable.statusCode).toBe(406);
    expect(notAcceptable.body).toBe('');
    expect((await t.req({ method: 'GET', url: '/v2/queues', headers: { accept: 'application/json, text/plain;q=0.5' } })).statusCode).toBe(200);
    const urlencoded = await t.req({ method: 'PUT', url: '/v2/queues/x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' });
    expect(urlencoded.body).toBe(
      '{"title": "Invalid Content-Type", "description": "Endpoint does not accept `application/x-www-form-urlencoded` content; currently supported media type is `application/json`; specify proper client-side media type with the \\"Content-Type\\" header."}',
    );
    // Order: the urlencoded check comes before the Client-ID check.
    const both = await t.app.inject({ method: 'PUT', url: '/v2/queues/x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' });
    expect(JSON.parse(both.body)).toMatchObject({ title: 'Invalid Content-Type' });
    // Header errors win over body errors.
    const headerFirst = await t.req({ method: 'PUT', url: '/v2/queues/bad%20name', headers: JSON_HDR, payload: '{nope' });
    expect(JSON.parse(headerFirst.body)).toMatchObject({ title: 'Invalid queue identification' });
    // python-zaqarclient sends application/json on GET and DELETE too.
    expect((await t.req({ method: 'DELETE', url: '/v2/queues/cased', headers: JSON_HDR })).statusCode).toBe(204);
  });

  it('routes unknown paths to 404 and wrong methods to 405 with Allow, before any hook', async () => {
    for (const url of ['/v2/nothing_here', '/v2/pools', '/v2/flavors', '/v2/topics']) {
      const r = await t.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(404);
      expect(r.body).toBe('{"title": "404 Not Found"}');
    }
    const post = await t.app.inject({ method: 'POST', url: '/v2/queues' });
    expect(post.statusCode).toBe(405);
    expect(post.headers['allow']).toBe('GET, OPTIONS');
    expect(post.body).toBe('{"title": "405 Method Not Allowed"}');
    const head = await t.req({ method: 'HEAD', url: '/v2/queues/q' });
    expect(head.statusCode).toBe(405);
    expect(head.headers['allow']).toBe('DELETE, GET, PATCH, PUT, OPTIONS');
    const options = await t.req({ method: 'OPTIONS', url: '/v2/queues' });
    expect(options.statusCode).toBe(200);
    expect(options.headers['allow']).toBe('GET');
  });

  it('subscriptions: create, duplicate, list, get, update, confirm, conflict, delete', async () => {
    const create = (payload: string) =>
      t.req({ method: 'POST', url: '/v2/queues/rq1/subscriptions', headers: JSON_HDR, payload });
    const created = await create('{"subscriber": "http://127.0.0.1:9/hook", "ttl": 3600, "options": {"k": "v"}}');
    expect(created.statusCode).toBe(201);
    expect(created.headers['location']).toBe('/v2/queues/rq1/subscriptions');
    const sid = (JSON.parse(created.body) as { subscription_id: string }).subscription_id;
    expect(created.body).toBe(`{"subscription_id": "${sid}"}`);
    const dup = await create('{"subscriber": "http://127.0.0.1:9/hook", "ttl": 3600}');
    expect(dup.statusCode).toBe(201);
    expect(dup.body).toBe(`{"subscription_id": "${sid}"}`);
    const record = `{"id": "${sid}", "source": "rq1", "subscriber": "http://127.0.0.1:9/hook", "ttl": 3600, "age": 0, "options": {"k": "v"}, "confirmed": false}`;
    const list = await t.req({ method: 'GET', url: '/v2/queues/rq1/subscriptions' });
    expect(list.body).toBe(`{"subscriptions": [${record}], "links": [{"rel": "next", "href": "/v2/queues/rq1/subscriptions?marker=${sid}"}]}`);
    const next = await t.req({ method: 'GET', url: `/v2/queues/rq1/subscriptions?marker=${sid}` });
    expect(next.body).toBe('{"subscriptions": [], "links": []}');
    expect((await t.req({ method: 'GET', url: `/v2/queues/rq1/subscriptions/${sid}` })).body).toBe(record);
    const update = await t.req({ method: 'PATCH', url: `/v2/queues/rq1/subscriptions/${sid}`, headers: JSON_HDR, payload: '{"ttl": 7200, "options": {"k": "w"}}' });
    expect(update.statusCode).toBe(204);
    expect(update.headers['location']).toBe(`/v2/queues/rq1/subscriptions/${sid}`);
    expect(JSON.parse((await t.req({ method: 'GET', url: `/v2/queues/rq1/subscriptions/${sid}` })).body)).toMatchObject({ ttl: 7200, options: { k: 'w' } });
    const emptyUpdate = await t.req({ method: 'PATCH', url: `/v2/queues/rq1/subscriptions/${sid}`, headers: JSON_HDR, payload: '{}' });
    expect(emptyUpdate.body).toBe('{"title": "Invalid API request", "description": "No subscription to create."}');
    const badConfirm = await t.req({ method: 'PUT', url: `/v2/queues/rq1/subscriptions/${sid}/confirm`, headers: JSON_HDR, payload: '{"confirmed": "yes"}' });
    expect(badConfirm.body).toBe('{"title": "Invalid API request", "description": "The \'confirmed\' should be boolean."}');
    const confirm = await t.req({ method: 'PUT', url: `/v2/queues/rq1/subscriptions/${sid}/confirm`, headers: JSON_HDR, payload: '{"confirmed": true}' });
    expect(confirm.statusCode).toBe(204);
    expect(confirm.headers['location']).toBe(`/v2/queues/rq1/subscriptions/${sid}/confirm`);
    const conflict = await create('{"subscriber": "http://127.0.0.1:9/hook"}');
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers['location']).toBe('/v2/queues/rq1/subscriptions');
    expect(conflict.body).toBe(
      '{"title": "Resource conflict", "description": "Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI."}',
    );
    expect((await t.req({ method: 'DELETE', url: `/v2/queues/rq1/subscriptions/${sid}` })).statusCode).toBe(204);
    expect((await t.req({ method: 'DELETE', url: `/v2/queues/rq1/subscriptions/${sid}` })).statusCode).toBe(204);
    const gone = await t.req({ method: 'GET', url: `/v2/queues/rq1/subscriptions/${sid}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.body).toBe(`{"title": "Not found", "description": "Subscription ${sid} does not exist"}`);
  });

  it('subscriptions: validation texts', async () => {
    const cases: [string | undefined, string][] = [
      ['{"subscriber": "ftp://x/y"}', "The subscriber type of subscription must be supported in the list ['http', 'https', 'mailto', 'trust+http', 'trust+https']."],
      ['{"ttl": 3600}', 'Missing parameter subscriber in body.'],
      [undefined, 'Missing parameter subscriber in body.'],
      ['{"subscriber": "http://127.0.0.1:9/h2", "ttl": 10}', 'The TTL for a subscription must be at least 60 seconds long.'],
      ['{"subscriber": "http://127.0.0.1:9/h2", "ttl": "x"}', 'TTL must be an integer.'],
      ['{"subscriber": "mailto:a@b.c", "options": [1]}', 'Options must be a dict.'],
    ];
    for (const [payload, text] of cases) {
      const r = await t.req({ method: 'POST', url: '/v2/queues/rq1/subscriptions', ...(payload !== undefined && { headers: JSON_HDR, payload }) });
      expect(r.statusCode, payload).toBe(400);
      expect(r.body, payload).toBe(`{"title": "Invalid API request", "description": ${JSON.stringify(text)}}`);
    }
    const missing = await t.req({ method: 'PATCH', url: '/v2/queues/rq1/subscriptions/00000000-0000-4000-8000-000000000000', headers: JSON_HDR, payload: '{"ttl": 600}' });
    expect(missing.statusCode).toBe(404);
  });

  it('schemas: empty list without a catalog; list and documents with one', async () => {
    expect((await t.req({ method: 'GET', url: '/v2/schemas' })).body).toBe('{"schemas": []}');
    const doc = { $id: 'x', type: 'object' };
    const withCatalog = await buildHttpApp({
      schemas: { list: () => [{ name: 'tripleo', title: 'TripleO message' }], get: (n) => (n === 'tripleo' ? doc : undefined) },
    });
    try {
      const list = await withCatalog.req({ method: 'GET', url: '/v2/schemas' });
      expect(list.body).toBe('{"schemas": [{"name": "tripleo", "title": "TripleO message", "href": "/v2/schemas/tripleo"}]}');
      expect((await withCatalog.req({ method: 'GET', url: '/v2/schemas/tripleo' })).body).toBe('{"$id": "x", "type": "object"}');
      const unknown = await withCatalog.req({ method: 'GET', url: '/v2/schemas/nope' });
      expect(unknown.statusCode).toBe(404);
      expect(JSON.parse(unknown.body)).toEqual({ title: 'Not found', description: 'Schema nope does not exist' });
      expect((await withCatalog.app.inject({ method: 'GET', url: '/v2/schemas' })).statusCode).toBe(400);
    } finally {
      await withCatalog.close();
    }
  });
});

describe('REST error handling', () => {
  it('writes the per-request lines only at debug: at info they would cost a third of the post rate', async () => {
    for (const [level, expected] of [['info', 0], ['debug', 2]] as const) {
      const t = await buildHttpApp({ logLevel: level });
      try {
        expect((await t.req({ method: 'GET', url: '/v2/queues' })).statusCode).toBe(200);
        expect(t.logs.filter((l) => l['msg'] === 'incoming request' || l['msg'] === 'request completed')).toHaveLength(expected);
      } finally {
        await t.close();
      }
    }
  });

  it('answers 500 in Zaqar shape for unexpected exceptions and logs them at error', async () => {
    const t = await buildHttpApp({
      wrap: (s: ZaqarService): ZaqarService =>
        new Proxy(s, {
          get(target, prop) {
            if (prop === 'listQueues') return () => Promise.reject(new TypeError('boom'));
            if (prop === 'queueStats') return () => Promise.reject(errors.brokerUnavailable('Queue stats could not be read.'));
            const v: unknown = Reflect.get(target, prop);
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }),
    });
    try {
      const r = await t.req({ method: 'GET', url: '/v2/queues' });
      expect(r.statusCode).toBe(500);
      expect(r.body).toBe('{"title": "Internal server error", "description": "Unexpected error."}');
      expect(t.logs.some((l) => l['level'] === 50 && JSON.stringify(l).includes('boom'))).toBe(true);
      const unavailable = await t.req({ method: 'GET', url: '/v2/queues/q/stats' });
      expect(unavailable.statusCode).toBe(503);
      expect(unavailable.body).toBe(
        '{"title": "Service temporarily unavailable", "description": "Queue stats could not be read. Please try again in a few seconds."}',
      );
      expect((await t.req({ method: 'GET', url: '/v2/ping' })).statusCode).toBe(204);
    } finally {
      await t.close();
    }
  });
});

describe('REST over a real socket', () => {
  it('serves a post and a list on an ephemeral port, keep-alive included', async () => {
    const t = await buildHttpApp();
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const call = (method: string, path: string, body?: string, client = CLIENT) =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const headers: Record<string, string> = { 'Client-ID': client, 'X-Project-Id': 'sock' };
          if (body !== undefined) {
            headers['Content-Type'] = 'application/json';
            headers['Content-Length'] = String(Buffer.byteLength(body));
          }
          const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
          });
          req.on('error', reject);
          req.end(body);
        });
      const posted = await call('POST', '/v2/queues/sq/messages', '{"messages": [{"body": {"hello": "w\u00f6rld"}}]}', '3381af922b9e11e3b19171861300734c');
      expect(posted.status).toBe(201);
      expect(posted.headers['content-type']).toBe('application/json');
      const listed = await call('GET', '/v2/queues/sq/messages?echo=True', undefined, '4cd3d13e7e9b4f5abb2a61f3a7a1d2c1');
      expect(listed.status).toBe(200);
      expect(listed.body).toContain('"body": {"hello": "w\\u00f6rld"}');
      const mine = await call('GET', '/v2/queues/sq/messages', undefined, '3381AF92-2B9E-11E3-B191-71861300734C');
      expect(mine.body).toBe('{"messages": [], "links": []}');
    } finally {
      await t.close();
    }
  });
});
