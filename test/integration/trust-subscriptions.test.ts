/**
 * `trust+http(s)://` subscribers behind a real Keystone (reference §3.4.3): subscribing over
 * REST or WebSocket creates a trust from the caller to the bridge's service user, its id is
 * stored in the subscription's options, and every webhook POST goes to the URL without the
 * prefix with a token scoped to that trust, which Keystone says is the caller's (impersonation),
 * on the caller's project.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { AuthError } from '../../src/auth/index.js';
import { KeystoneAuthenticator } from '../../src/auth/keystone.js';
import { call, Peer, startAuthApp, type AuthApp } from '../fixtures/auth-app.js';
import { HttpRecorder } from '../fixtures/http-recorder.js';
import { ADMIN_PASSWORD, Keystone, keystoneAvailable, type User } from '../fixtures/keystone.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

describe.runIf(keystoneAvailable())('trust subscriptions (real Keystone)', () => {
  let ks: Keystone;
  let t: AuthApp;
  let alice: User;
  let hook: Server;
  let hookBase = '';
  const received: Received[] = [];

  beforeAll(async () => {
    ks = await Keystone.start(3600);
    alice = await ks.createUser('alice', 'member');
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const address = hook.address();
    hookBase = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    t = await startAuthApp(
      { strategy: 'keystone', keystoneUrl: ks.url, keystoneUsername: 'admin', keystonePassword: ADMIN_PASSWORD, keystoneProjectName: 'admin' },
      { webhooks: { allowedCidrs: '127.0.0.1/32' } },
    );
  }, 120_000);

  afterAll(async () => {
    await t?.app.close();
    await new Promise<void>((resolve) => (hook === undefined ? resolve() : hook.close(() => resolve())));
    await ks?.stop();
  });

  /** What Keystone says about a token (validated with the admin's). */
  async function inspect(token: string): Promise<{ user: string; project: string; trust: string | undefined }> {
    const res = await fetch(`${ks.url}/auth/tokens`, { headers: { 'x-auth-token': await ks.adminToken(), 'x-subject-token': token } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: { user: { id: string }; project: { id: string }; 'OS-TRUST:trust'?: { id: string } } };
    return { user: body.token.user.id, project: body.token.project.id, trust: body.token['OS-TRUST:trust']?.id };
  }

  async function aliceId(token: string): Promise<string> {
    return (await inspect(token)).user;
  }

  it('over REST: creates a trust, stores its id, and POSTs with a token of the trust on alice\'s behalf', async () => {
    const token = await ks.token(alice.name, alice.password, alice.projectName);
    const h = { 'x-auth-token': token };
    const sub = await call(t.rest, 'POST', '/v2/queues/tq/subscriptions', h, { subscriber: `trust+${hookBase}/rest-hook`, ttl: 600 });
    expect(sub.status).toBe(201);
    const id = (sub.json as { subscription_id: string }).subscription_id;
    const stored = await call(t.rest, 'GET', `/v2/queues/tq/subscriptions/${id}`, h);
    expect(stored.json).toMatchObject({ subscriber: `trust+${hookBase}/rest-hook`, options: { trust_id: expect.any(String) } });
    const trustId = (stored.json as { options: { trust_id: string } }).options.trust_id;

    expect((await call(t.rest, 'POST', '/v2/queues/tq/messages', h, { messages: [{ body: { n: 1 } }, { body: { n: 2 } }] })).status).toBe(201);
    await expect.poll(() => received.filter((r) => r.path === '/rest-hook').length, { timeout: 10_000 }).toBe(2);
    const posts = received.filter((r) => r.path === '/rest-hook');
    expect(posts.map((p) => p.body)).toEqual([
      { ttl: 3600, body: { n: 1 }, Message_Type: 'Notification', queue_name: 'tq' },
      { ttl: 3600, body: { n: 2 }, Message_Type: 'Notification', queue_name: 'tq' },
    ]);
    const sent = posts.map((p) => p.headers['x-auth-token']);
    expect(sent[0]).toEqual(expect.any(String));
    expect(sent[1]).toBe(sent[0]); // one trust token, reused until it nears expiry
    expect(sent[0]).not.toBe(token);
    expect(await inspect(String(sent[0]))).toEqual({ user: await aliceId(token), project: alice.projectId, trust: trustId });
  });

  it('over WebSocket: the authenticated connection\'s token creates the trust', async () => {
    const token = await ks.token(alice.name, alice.password, alice.projectName);
    const peer = await Peer.open(t.ws);
    const headers = { 'X-Project-ID': alice.projectId };
    expect((await peer.send('authenticate', { 'X-Auth-Token': token, ...headers })).headers?.status).toBe(200);
    expect((await peer.send('queue_create', headers, { queue_name: 'wq' })).headers?.status).toBe(201);
    const created = await peer.send('subscription_create', headers, { queue_name: 'wq', subscriber: `trust+${hookBase}/ws-hook`, ttl: 600 });
    expect(created.headers?.status).toBe(201);
    const id = (created.body as { subscription_id: string }).subscription_id;
    const got = await peer.send('subscription_get', headers, { queue_name: 'wq', subscription_id: id });
    const trustId = (got.body as { options: { trust_id?: unknown } }).options.trust_id;
    expect(trustId).toEqual(expect.any(String));
    expect((await peer.send('message_post', headers, { queue_name: 'wq', messages: [{ body: 'over ws' }] })).headers?.status).toBe(201);
    await expect.poll(() => received.filter((r) => r.path === '/ws-hook').length, { timeout: 10_000 }).toBe(1);
    const post = received.find((r) => r.path === '/ws-hook');
    expect(post?.body).toMatchObject({ body: 'over ws', queue_name: 'wq' });
    expect(await inspect(String(post?.headers['x-auth-token']))).toEqual({ user: await aliceId(token), project: alice.projectId, trust: trustId });
    peer.socket.close();
  });

  it('keeps a trust_id the client gave, and refuses a subscription whose trust Keystone will not create', async () => {
    const token = await ks.token(alice.name, alice.password, alice.projectName);
    const h = { 'x-auth-token': token };
    const given = await call(t.rest, 'POST', '/v2/queues/tq2/subscriptions', h, { subscriber: `trust+${hookBase}/given`, ttl: 600, options: { trust_id: 'made-elsewhere' } });
    expect(given.status).toBe(201);
    const id = (given.json as { subscription_id: string }).subscription_id;
    expect((await call(t.rest, 'GET', `/v2/queues/tq2/subscriptions/${id}`, h)).json).toMatchObject({ options: { trust_id: 'made-elsewhere' } });

    // A token revoked after the bridge validated it still passes (validations are cached for
    // AUTH_CACHE_TTL_SECONDS), but Keystone will not let it create a trust.
    await ks.revoke(token);
    const refused = await call(t.rest, 'POST', '/v2/queues/tq3/subscriptions', h, { subscriber: `trust+${hookBase}/refused`, ttl: 600 });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ title: 'Invalid API request' });
    expect((refused.json as { description: string }).description).toMatch(/^The trust for this subscriber could not be created: Keystone refused the trust \(40[134]\)/);
    const other = { 'x-auth-token': await ks.token(alice.name, alice.password, alice.projectName) };
    const list = await call(t.rest, 'GET', '/v2/queues/tq3/subscriptions', other);
    expect((list.json as { subscriptions: unknown[] }).subscriptions).toEqual([]);
  });

  it('shares one trust token between concurrent deliveries, renews it near its expiry, and does not keep a refusal', async () => {
    const rec = await HttpRecorder.start(ks.url.replace(/\/v3$/, ''));
    let now = Date.now();
    const auth = new KeystoneAuthenticator({
      url: `${rec.origin}/v3`,
      username: 'admin',
      password: ADMIN_PASSWORD,
      projectName: 'admin',
      userDomainName: 'Default',
      projectDomainName: 'Default',
      cacheTtlMs: 60_000,
      timeoutMs: 5_000,
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    const issued = (): number => rec.exchanges.filter((e) => e.method === 'POST' && e.path === '/v3/auth/tokens' && e.status === 201).length;
    try {
      const token = await ks.token(alice.name, alice.password, alice.projectName);
      const identity = await auth.verify(token);
      expect(identity.userId).toEqual(expect.any(String));
      const trustId = await auth.trusts.create({ token, identity }, now + 600_000);
      const before = issued();
      const [a, b] = await Promise.all([auth.trusts.token(trustId), auth.trusts.token(trustId)]);
      expect(a).toBe(b);
      expect(await auth.trusts.token(trustId)).toBe(a);
      expect(issued()).toBe(before + 1);
      // Keystone's tokens last an hour here; an hour later the bridge asks for a new one.
      now += 3_600_000;
      const renewed = await auth.trusts.token(trustId);
      expect(issued()).toBe(before + 2);
      expect(renewed).not.toBe(a);
      expect(await inspect(renewed)).toMatchObject({ trust: trustId });

      const unknown = await auth.trusts.token('no-such-trust').catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(AuthError);
      expect((unknown as AuthError).kind).toBe('invalid');
      const asked = rec.exchanges.length;
      await auth.trusts.token('no-such-trust').catch(() => undefined);
      expect(rec.exchanges.length).toBeGreaterThan(asked); // asked again: a refusal is not kept
    } finally {
      await rec.stop();
    }
  });
});
