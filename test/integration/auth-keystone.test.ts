/**
 * AUTH_STRATEGY=keystone against a real Keystone (test/fixtures/keystone.ts): tokens of two
 * projects and an admin, project from the token, every REST route and WebSocket action refused
 * across projects (enumerated from the route table and the action list), admin-only routes,
 * revocation within the cache TTL, token expiry (4003), Keystone down → 503, and the bridge's
 * own service token (seen through a recording proxy): obtained again when Keystone refuses it,
 * renewed before it expires.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/transports/ws/actions.js';
import { resourcesOf } from '../../src/transports/http/routing.js';
import { call, Peer, startAuthApp, type AuthApp } from '../fixtures/auth-app.js';
import { runScript, zaqarclientUnavailable } from '../fixtures/zaqarclient/python.js';
import { HttpRecorder } from '../fixtures/http-recorder.js';
import { ADMIN_PASSWORD, Keystone, keystoneAvailable, type User } from '../fixtures/keystone.js';

/** keystone.conf [token] expiration: short, so one test sees a token expire. */
const TOKEN_SECONDS = 12;

describe.runIf(keystoneAvailable())('keystone strategy (real Keystone)', () => {
  let ks: Keystone;
  let t: AuthApp;
  let alice: User;
  let bob: User;
  let root: User;
  const tokenOf = (u: User): Promise<string> => ks.token(u.name, u.password, u.projectName);

  beforeAll(async () => {
    ks = await Keystone.start(TOKEN_SECONDS);
    // One after the other: Keystone's sqlite database takes one writer at a time.
    alice = await ks.createUser('alice', 'member');
    bob = await ks.createUser('bob', 'member');
    root = await ks.createUser('root', 'admin');
    t = await startAuthApp({
      strategy: 'keystone',
      keystoneUrl: ks.url,
      keystoneUsername: 'admin',
      keystonePassword: ADMIN_PASSWORD,
      keystoneProjectName: 'admin',
      cacheTtlSeconds: 1,
    });
  }, 120_000);

  afterAll(async () => {
    await t?.app.close();
    await ks?.stop();
  });

  it('answers 401 with keystonemiddleware\'s WWW-Authenticate without a token or with a bad one', async () => {
    for (const headers of [{}, { 'x-auth-token': 'gAAAAA-not-a-token' }]) {
      const r = await call(t.rest, 'GET', '/v2/queues', headers);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ title: 'Unauthorized', description: 'The request you have made requires authentication.' });
      expect(r.headers.get('www-authenticate')).toBe(`Keystone uri="${ks.url.replace(/\/v3$/, '')}"`);
    }
  });

  it('takes the project from the token (Mistral sends no X-Project-ID) and isolates projects', async () => {
    const a = await tokenOf(alice);
    const b = await tokenOf(bob);
    expect((await call(t.rest, 'POST', '/v2/queues/kq/messages', { 'x-auth-token': a }, { messages: [{ body: 'secret', ttl: 300 }] })).status).toBe(201);
    const mine = await call(t.rest, 'GET', '/v2/queues/kq/messages?echo=true', { 'x-auth-token': a, 'x-project-id': alice.projectId });
    const ids = (mine.json as { messages: { id: string; body: unknown }[] }).messages;
    expect(ids.map((m) => m.body)).toEqual(['secret']);
    const id = ids[0]?.id ?? '';
    const claim = await call(t.rest, 'POST', '/v2/queues/kq/claims', { 'x-auth-token': a }, { ttl: 60, grace: 60 });
    expect(claim.status).toBe(201);
    const claimId = /claims\/([^?]+)/.exec(claim.headers.get('location') ?? '')?.[1] ?? '';
    const sub = await call(t.rest, 'POST', '/v2/queues/kq/subscriptions', { 'x-auth-token': a }, { subscriber: 'mailto:a@example.com', ttl: 3600 });
    expect(sub.status).toBe(201);
    const subId = (sub.json as { subscription_id: string }).subscription_id;

    // Bob, with his own token and no header, never reaches alice's resources.
    const asBob = (path: string): Promise<{ status: number; json: unknown }> => call(t.rest, 'GET', path, { 'x-auth-token': b });
    expect((await asBob(`/v2/queues/kq/messages/${id}`)).status).toBe(404);
    expect((await asBob(`/v2/queues/kq/messages?ids=${id}`)).status).toBe(404);
    expect((await asBob(`/v2/queues/kq/claims/${claimId}`)).status).toBe(404);
    expect((await asBob(`/v2/queues/kq/subscriptions/${subId}`)).status).toBe(404);
    expect((await asBob('/v2/queues/kq/messages?echo=true&include_claimed=true')).json).toMatchObject({ messages: [] });
    expect(((await asBob('/v2/queues/kq/stats')).json as { messages: { total: number } }).messages.total).toBe(0);
    expect(JSON.stringify((await asBob('/v2/queues')).json)).not.toContain('"kq"');

    // Every REST route and method, with alice's token naming bob's project: refused before it runs.
    const params: Record<string, string> = { queue_name: 'kq', message_id: id, claim_id: claimId, subscription_id: subId };
    const routes = resourcesOf(t.app.http).filter((r) => r.url.startsWith('/v2/') && r.url !== '/v2/');
    expect(routes.length).toBeGreaterThan(10);
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, (_m, k: string) => params[k] ?? 'x');
      for (const method of r.methods) {
        const res = await call(t.rest, method, path, { 'x-auth-token': a, 'x-project-id': bob.projectId });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      }
    }
    // And nothing happened to alice's data.
    const after = await call(t.rest, 'GET', '/v2/queues/kq/messages?echo=true&include_claimed=true', { 'x-auth-token': a });
    expect((after.json as { messages: unknown[] }).messages).toHaveLength(1);
  });

  it('refuses every WebSocket action naming another project after authenticate (TripleO UI sequence)', async () => {
    const c = await Peer.open(t.ws);
    try {
      const a = await tokenOf(alice);
      const pre = await c.send('queue_list', { 'X-Project-ID': alice.projectId });
      expect(pre.body).toEqual({ error: 'Not authentified.' });
      const ok = await c.send('authenticate', { 'X-Auth-Token': a, 'X-Project-ID': alice.projectId });
      expect(ok).toEqual({ request: { action: 'authenticate', body: {}, headers: {}, api: 'v2' }, body: { message: 'Authentified.' }, headers: { status: 200 } });
      // The UI's next frames: create its queue and subscribe.
      expect((await c.send('queue_create', { 'X-Project-ID': alice.projectId }, { queue_name: 'tripleo' })).headers?.status).toBe(201);
      expect((await c.send('subscription_create', { 'X-Project-ID': alice.projectId }, { queue_name: 'tripleo', ttl: 3600 })).headers?.status).toBe(201);
      for (const action of ACTIONS.filter((x) => x !== 'authenticate')) {
        const r = await c.send(action, { 'X-Project-ID': bob.projectId }, { queue_name: 'kq', message_id: 'x', message_ids: ['x'], claim_id: 'x', subscription_id: 'x', messages: [{ body: 1 }], pool_name: 'p', flavor_name: 'f' });
        expect({ action, status: r.headers?.status, body: r.body }).toEqual({ action, status: 403, body: { error: 'Not authenticated.' } });
      }
      const health = await c.send('check_node_health', { 'X-Project-ID': alice.projectId });
      expect(health.headers?.status).toBe(403);
    } finally {
      c.close();
    }
  });

  it('serves the real python-zaqarclient with its keystone auth backend, each user in its project', async () => {
    const unavailable = zaqarclientUnavailable();
    if (unavailable !== null) throw new Error(unavailable);
    const flow = (u: User): Promise<{ bodies: unknown[]; total: number }> =>
      runScript('keystone_flow.py', [t.rest, ks.url, u.name, u.password, u.projectName, 'zc_keystone']);
    expect(await flow(alice)).toEqual({ bodies: [{ from: 'alice' }], total: 1 });
    expect(await flow(bob)).toEqual({ bodies: [{ from: 'bob' }], total: 1 });
  });

  it('needs the admin role from the token for /v2/health', async () => {
    expect((await call(t.rest, 'GET', '/v2/health', { 'x-auth-token': await tokenOf(alice), 'x-roles': 'admin' })).status).toBe(403);
    expect((await call(t.rest, 'GET', '/v2/health', { 'x-auth-token': await tokenOf(root) })).status).toBe(200);
  });

  it('stops honouring a revoked token within the cache TTL', async () => {
    const a = await tokenOf(alice);
    expect((await call(t.rest, 'GET', '/v2/queues', { 'x-auth-token': a })).status).toBe(200);
    await ks.revoke(a);
    // Past the 1 s cache TTL of this app.
    await new Promise((r) => setTimeout(r, 1_300));
    expect((await call(t.rest, 'GET', '/v2/queues', { 'x-auth-token': a })).status).toBe(401);
  });

  it('closes the socket with 4003 when the Keystone token expires', async () => {
    const c = await Peer.open(t.ws);
    const ok = await c.send('authenticate', { 'X-Auth-Token': await tokenOf(bob), 'X-Project-ID': bob.projectId });
    expect(ok.headers?.status).toBe(200);
    expect(await c.closed).toEqual({ code: 4003, reason: 'Authentication expired.' });
  }, 30_000);

  it('obtains a new service token when Keystone refuses its own, and renews it before it expires', async () => {
    // The bridge talks to Keystone through a recorder, so the test sees its service tokens.
    const rec = await HttpRecorder.start(ks.url.replace(/\/v3$/, ''));
    const app = await startAuthApp({
      strategy: 'keystone',
      keystoneUrl: `${rec.origin}/v3`,
      keystoneUsername: 'admin',
      keystonePassword: ADMIN_PASSWORD,
      keystoneProjectName: 'admin',
      cacheTtlSeconds: 1,
    });
    const tokens = '/v3/auth/tokens';
    const issued = (): (string | undefined)[] =>
      rec.exchanges.filter((e) => e.method === 'POST' && e.path === tokens && e.status === 201).map((e) => e.responseHeaders['x-subject-token']);
    const validations = (): { service: string | undefined; status: number }[] =>
      rec.exchanges.filter((e) => e.method === 'GET' && e.path === tokens).map((e) => ({ service: e.requestHeaders['x-auth-token'], status: e.status }));
    // Each call carries a token the bridge has not seen, so each one is validated.
    const listWithFreshToken = async (): Promise<number> =>
      (await call(app.rest, 'GET', '/v2/queues', { 'x-auth-token': await tokenOf(alice) })).status;
    try {
      expect(await listWithFreshToken()).toBe(200);
      const [s1] = issued();
      expect(issued()).toHaveLength(1);
      expect(validations()).toEqual([{ service: s1, status: 200 }]);

      await ks.revoke(s1 ?? '');
      expect(await listWithFreshToken()).toBe(200);
      const [, s2] = issued();
      expect(issued()).toHaveLength(2);
      expect(s2).not.toBe(s1);
      // Refused once with the revoked token, then asked again with the new one.
      expect(validations()).toEqual([
        { service: s1, status: 200 },
        { service: s1, status: 401 },
        { service: s2, status: 200 },
      ]);

      // Keystone's tokens live TOKEN_SECONDS here; the bridge renews half-way through one that
      // short, so 7 s later s2 is still valid and yet no longer used.
      await new Promise((r) => setTimeout(r, 7_000));
      expect(await listWithFreshToken()).toBe(200);
      const s3 = issued()[2];
      expect(issued()).toHaveLength(3);
      expect(validations().slice(3)).toEqual([{ service: s3, status: 200 }]);
    } finally {
      await app.app.close();
      await rec.stop();
    }
  }, 30_000);

  it('answers 503 quickly when Keystone is unreachable, never allow', async () => {
    const down = await startAuthApp({
      strategy: 'keystone',
      keystoneUrl: 'http://127.0.0.1:9/v3',
      keystoneUsername: 'admin',
      keystonePassword: ADMIN_PASSWORD,
      keystoneProjectName: 'admin',
      timeoutMs: 500,
    });
    try {
      const r = await call(down.rest, 'GET', '/v2/queues', { 'x-auth-token': await tokenOf(alice) });
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ title: 'Service temporarily unavailable' });
      const c = await Peer.open(down.ws);
      const w = await c.send('authenticate', { 'X-Auth-Token': 'x', 'X-Project-ID': 'p' });
      expect(w.headers?.status).toBe(503);
      c.close();
    } finally {
      await down.app.close();
    }
  });
});
