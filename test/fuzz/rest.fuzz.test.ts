/**
 * Property-based fuzzing of every REST route (issue 12, docs/fuzzing.md), enumerated from the
 * server's route table so a new route is fuzzed too: every method (also the ones a resource
 * does not serve), path parameters valid and hostile, missing or garbage headers, bodies that
 * are hostile JSON, truncated JSON, not JSON, or deeply nested. Each request gets an answer
 * with a Zaqar-shaped error body (`title`, `description`), never a 500; the server keeps
 * serving and the queue still lists, counts and notifies.
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourcesOf } from '../../src/transports/http/routing.js';
import { CLIENT, expectQueueStillWorks, fuzzRuns, fuzzSeed, hostile, PROJECT, startFuzzApp, Tally, type FuzzApp } from './harness.js';

const METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

interface Req {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | null;
}

/** A path parameter: a value that exists, a plausible one, or a hostile one (URL-encoded). */
const paramValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('fuzz', 'fuzz-2', 'tripleo') },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.constantFrom('%00', '..', '%2e%2e', 'a'.repeat(1_100), '%ff%fe', '%', 'x?y=1') },
);

const query: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('limit', 'marker', 'echo', 'include_claimed', 'include_delayed', 'ids', 'pop', 'claim_id', 'detailed', 'x'),
        fc.oneof(fc.constantFrom('1', '20', '-1', '0', 'true', 'no', '', '9000000000000000', 'abc'), fc.string({ maxLength: 40 }).map(encodeURIComponent)),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`)),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/openstack-messaging-v2.0-json-patch',
  'text/plain',
  'application/json; charset=latin1',
  '',
);

/** A body: hostile JSON, something Zaqar would accept, garbage, truncated or invalid UTF-8. */
const bodyBytes: fc.Arbitrary<Buffer | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: hostile.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  {
    weight: 3,
    arbitrary: fc
      .record({ messages: fc.array(fc.record({ ttl: fc.constantFrom(60, 300, 59), body: fc.jsonValue({ maxDepth: 3 }) }), { maxLength: 3 }), ttl: fc.constantFrom(60, 300), grace: fc.constantFrom(60, 0), subscriber: fc.constantFrom('http://127.0.0.1:9/x', 'mailto:a@b.c') }, { requiredKeys: [] })
      .map((v) => Buffer.from(JSON.stringify(v))),
  },
  { weight: 1, arbitrary: fc.tuple(hostile, fc.nat()).map(([v, n]) => {
    const text = JSON.stringify(v) ?? 'null';
    return Buffer.from(text.slice(0, n % (text.length + 1)));
  }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(Buffer.from(`{"messages": [{"ttl": 300, "body": ${'['.repeat(3_000)}1${']'.repeat(3_000)}}]}`)) },
);

interface Route {
  readonly url: string;
  readonly methods: readonly string[];
}

function requestArb(routes: readonly Route[]): fc.Arbitrary<Req> {
  // Mostly a method the resource serves (to reach its handler), sometimes any (Falcon's 405).
  const routeAndMethod = fc
    .constantFrom(...routes)
    .chain((r) => fc.tuple(fc.constant(r.url), fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...r.methods) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) })));
  return fc
    .record({
      routeMethod: routeAndMethod,
      params: fc.array(paramValue, { minLength: 4, maxLength: 4 }),
      query,
      client: fc.oneof({ weight: 5, arbitrary: fc.constant(CLIENT) }, { weight: 1, arbitrary: fc.constantFrom('', 'not-a-uuid', '00000000-0000-0000-0000-000000000000') }, { weight: 1, arbitrary: fc.constant(undefined) }),
      project: fc.oneof({ weight: 5, arbitrary: fc.constant(PROJECT) }, { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(300), 'other') }, { weight: 1, arbitrary: fc.constant(undefined) }),
      type: contentType,
      body: bodyBytes,
    })
    .map(({ routeMethod: [route, method], params, query: q, client, project, type, body }) => {
      let i = 0;
      const path = route.replace(/:[A-Za-z_]+/g, () => params[i++ % params.length] ?? 'x') + q;
      const headers: Record<string, string> = {};
      if (client !== undefined) headers['Client-ID'] = client;
      if (project !== undefined) headers['X-Project-ID'] = project;
      if (body !== null && type !== '') headers['Content-Type'] = type;
      // Framed as a client must (Node sends a GET's body unframed otherwise).
      if (body !== null) headers['Content-Length'] = String(body.length);
      return { method, path, headers, body };
    });
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** One request on its own connection (a garbage request must not poison a shared one). */
function send(port: number, r: Req): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, timeout: 5_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within 5 s to ${r.method} ${r.path}`)));
    req.on('error', reject);
    req.end(r.body ?? undefined);
  });
}

describe('fuzzing every REST route', { timeout: 300_000 }, () => {
  let target: FuzzApp;
  beforeAll(async () => {
    target = await startFuzzApp();
  });
  afterAll(async () => {
    await target.close();
  });

  it('answers every request, errors in Zaqar\'s shape, never a 500', async () => {
    const routes = resourcesOf(target.app.http).filter((r) => r.methods.length > 0);
    expect(routes.length).toBeGreaterThan(15);
    const seed = fuzzSeed('rest');
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(requestArb(routes), async (r) => {
        const a = await send(target.restPort, r);
        tally.add(a.status);
        expect(a.status, `${r.method} ${r.path}`).toBeLessThan(500);
        if (a.status >= 400 && r.method !== 'HEAD' && a.text !== '') {
          const body = JSON.parse(a.text) as { title?: unknown; description?: unknown };
          expect(typeof body.title, `${r.method} ${r.path}: ${a.text.slice(0, 200)}`).toBe('string');
        }
      }),
      { seed, numRuns: fuzzRuns() },
    );
    tally.print('rest');
    await expectQueueStillWorks(target);
  });
});
