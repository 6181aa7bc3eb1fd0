/**
 * Pre-signed URLs (SIGNED_URL_KEY, reference §4.9): the real python-zaqarclient's share flow,
 * and Zaqar's signature hook answering a plain 404 to a tampered, expired, out-of-scope or
 * wrong-method request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript, zaqarclientUnavailable } from '../fixtures/zaqarclient/python.js';
import { call, startAuthApp, type AuthApp } from '../fixtures/auth-app.js';

interface Share {
  paths: string[];
  methods: string[];
  project: string;
  expires: string;
  signature: string;
}

let t: AuthApp;

beforeAll(async () => {
  t = await startAuthApp({ signedUrlKey: 'test-secret' });
});

afterAll(async () => {
  await t.app.close();
});

function signedHeaders(s: Share, over: Partial<Record<string, string>> = {}): Record<string, string> {
  return {
    'url-signature': s.signature,
    'url-expires': s.expires,
    'url-methods': s.methods.join(','),
    'url-paths': s.paths.join(','),
    'x-project-id': s.project,
    ...over,
  } as Record<string, string>;
}

describe('pre-signed URLs', () => {
  it('pass the real python-zaqarclient signed-url flow', async () => {
    const unavailable = zaqarclientUnavailable();
    if (unavailable !== null) throw new Error(unavailable);
    const out = await runScript<{ share: Share; bodies: unknown[] }>('signed_flow.py', [t.rest, 'proj-share', 'shared_q']);
    expect(out.bodies).toEqual(['Post It!']);
    expect(out.share).toMatchObject({ paths: ['/v2/queues/shared_q/messages'], methods: ['GET'], project: 'proj-share' });
    expect(out.share.signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answer 404 to a tampered, expired, wrong-method, wrong-path or wrong-project request', async () => {
    const r = await call(t.rest, 'POST', '/v2/queues/sq/share', { 'x-project-id': 'p1' }, { methods: ['GET'], paths: ['messages'] });
    expect(r.status).toBe(200);
    const s = r.json as Share;
    expect((await call(t.rest, 'POST', '/v2/queues/sq/messages', { 'x-project-id': 'p1' }, { messages: [{ body: 1 }] })).status).toBe(201);
    expect((await call(t.rest, 'GET', '/v2/queues/sq/messages?echo=true', signedHeaders(s))).status).toBe(200);
    const refused = {
      tampered: signedHeaders(s, { 'url-signature': s.signature.replace(/^./, s.signature[0] === 'a' ? 'b' : 'a') }),
      otherProject: signedHeaders(s, { 'x-project-id': 'p2' }),
      widened: signedHeaders(s, { 'url-methods': 'GET,DELETE' }),
    };
    for (const [name, headers] of Object.entries(refused)) {
      expect({ name, status: (await call(t.rest, 'GET', '/v2/queues/sq/messages', headers)).status }).toEqual({ name, status: 404 });
    }
    expect((await call(t.rest, 'DELETE', '/v2/queues/sq/messages?pop=1', signedHeaders(s))).status).toBe(404);
    expect((await call(t.rest, 'GET', '/v2/queues/other/messages', signedHeaders(s))).status).toBe(404);
    const past = await call(t.rest, 'POST', '/v2/queues/sq/share', { 'x-project-id': 'p1' }, { expires: '2000-01-01T00:00:00' });
    expect(past.status).toBe(400);
    expect(past.json).toMatchObject({ description: '`expires` is lower than the current time' });
  });
});
