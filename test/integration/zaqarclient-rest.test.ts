/**
 * The real python-zaqarclient (the library Mistral and tripleo-common use) against the
 * whole app on port 0 with the memory backend: every REST call a producer makes, asserted
 * from the client's own view (reference: real-clients.md §5 and §9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { runScript, zaqarclientUnavailable } from '../fixtures/zaqarclient/python.js';

/** The receivers of these tests listen on loopback: allowed past the webhook SSRF guard. */
const LOOPBACK_WEBHOOKS = '127.0.0.0/8,::1';

type Step = { ok: true; value: unknown } | { ok: false; error: string; status: number | null; message: string };
interface FlowResult {
  readonly client_uuid: string;
  readonly steps: Record<string, Step>;
}

interface MsgView {
  id: string;
  ttl: number;
  age: number;
  body: unknown;
  href: string;
  claim_id: string | null;
}

const unavailable = zaqarclientUnavailable();
if (unavailable !== null && process.env['CI'] !== undefined) {
  // In CI the tool is installed by .ci/run; its absence is a broken pipeline, not a skip.
  throw new Error(`zaqarclient tests cannot run: ${unavailable}`);
}

describe.skipIf(unavailable !== null)('python-zaqarclient over REST', () => {
  let app: App;
  let url: string;
  let result: FlowResult;

  function value<T>(name: string): T {
    const s = result.steps[name];
    if (s === undefined) throw new Error(`step ${name} did not run`);
    if (!s.ok) throw new Error(`step ${name} failed: ${s.error} ${s.status ?? ''} ${s.message}`);
    return s.value as T;
  }

  function failure(name: string): Extract<Step, { ok: false }> {
    const s = result.steps[name];
    if (s === undefined || s.ok) throw new Error(`step ${name} should have failed: ${JSON.stringify(s)}`);
    return s;
  }

  beforeAll(async () => {
    const config = parseConfig({ server: { restPort: 0, wsPort: 0 }, log: { level: 'silent' }, webhooks: { allowedCidrs: LOOPBACK_WEBHOOKS } });
    app = buildApp(config, { logger: createLogger({ level: 'silent' }) });
    const { restPort } = await app.start();
    url = `http://127.0.0.1:${restPort}`;
    result = await runScript<FlowResult>('rest_flow.py', [url, '--project', 'proj-zc', '--queue', 'zc_flow']);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('pings', () => {
    expect(value('ping')).toBe(true);
  });

  it('answers /v2/health as real Zaqar does for a non-admin (403)', () => {
    expect(failure('health')).toMatchObject({ error: 'ForbiddenError', status: 403 });
  });

  it('creates, lists and describes queues', () => {
    expect(value('queue_create')).toBe(true);
    expect(value<{ names: string[] }>('queue_list').names).toContain('zc_flow');
    expect(value<{ name: string }[]>('queue_list_detailed').map((q) => q.name)).toContain('zc_flow');
    expect(value('metadata_set')).toBe(true);
    expect(value('metadata_get')).toMatchObject({
      description: 'zaqarclient flow',
      _max_messages_post_size: 262144,
      _default_message_ttl: 3600,
    });
  });

  it('posts messages and returns their hrefs', () => {
    const res = value<{ resources: string[] }>('post');
    expect(res.resources).toHaveLength(3);
    for (const href of res.resources) expect(href).toMatch(/^\/v2\/queues\/zc_flow\/messages\/[0-9a-f-]+$/);
  });

  it('reports stats', () => {
    expect(value('stats')).toMatchObject({ messages: { claimed: 0, free: 3, total: 3 } });
  });

  it('lists with echo in post order, hides own messages without echo, shows them to other clients', () => {
    const ids = value<{ resources: string[] }>('post').resources.map((r) => r.split('/').at(-1));
    const listed = value<MsgView[]>('list_echo');
    expect(listed.map((m) => m.id)).toEqual(ids);
    expect(listed.map((m) => m.body)).toEqual([{ event: 'hello' }, 'plain string', [1, 2, 3]]);
    expect(listed.map((m) => m.ttl)).toEqual([300, 3600, 3600]);
    expect(listed[0]?.href).toBe(`/v2/queues/zc_flow/messages/${ids[0]}`);
    expect(value('list_no_echo_same_client')).toEqual([]);
    expect(value('list_no_echo_other_client')).toEqual(ids);
  });

  it('gets one message and many messages', () => {
    const ids = value<{ resources: string[] }>('post').resources.map((r) => r.split('/').at(-1));
    expect(value<MsgView>('get')).toMatchObject({ id: ids[1], body: 'plain string' });
    expect(value('get_many')).toEqual([ids[0], ids[2]]);
  });

  it('claims, reads, updates and releases a claim', () => {
    const ids = value<{ resources: string[] }>('post').resources.map((r) => r.split('/').at(-1));
    const claim = value<{ id: string; messages: MsgView[] }>('claim_create');
    expect(claim.id).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(claim.messages.map((m) => m.id)).toEqual([ids[0], ids[1]]);
    for (const m of claim.messages) expect(m.claim_id).toBe(claim.id);
    expect(value<{ ttl: number; messages: string[] }>('claim_get')).toMatchObject({ ttl: 120, messages: [ids[0], ids[1]] });
    expect(value('claim_update')).toBe(300);
    expect(value('claim_release')).toMatchObject({ claimed: 0, free: 2, total: 2 });
  });

  it('refuses to delete a claimed message without its claim, deletes it with the claim', () => {
    const claim = value<{ id: string; messages: MsgView[] }>('claim_create');
    expect(value<MsgView>('get_claimed').id).toBe(claim.messages[0]?.id);
    expect(failure('delete_claimed_without_claim')).toMatchObject({ error: 'ForbiddenError', status: 403 });
    expect(value('delete_under_claim')).toBe(value<{ messages: MsgView[] }>('claim_create').messages[0]?.id);
    expect(failure('get_deleted')).toMatchObject({ error: 'ResourceNotFound', status: 404 });
  });

  it('pops and bulk-deletes', () => {
    const popped = value<{ id: string }[]>('pop');
    expect(popped).toHaveLength(1);
    expect(value<string[]>('delete_many')).toHaveLength(1);
    expect(value('list_after_delete')).toEqual([]);
  });

  it('gets 204 (no claim) when nothing is left to claim', () => {
    expect(value('claim_empty')).toEqual({ id: null, messages: [] });
  });

  it('creates, lists and deletes subscriptions', () => {
    const sub = value<{ id: string; subscriber: string; ttl: number; options: unknown }>('subscription_create');
    expect(sub).toMatchObject({ subscriber: 'http://127.0.0.1:9/hook', ttl: 3600, options: { a: 1 } });
    expect(value('subscription_list')).toEqual([{ id: sub.id, subscriber: 'http://127.0.0.1:9/hook' }]);
    expect(value('subscription_delete')).toEqual([]);
  });

  it('deletes the queue', () => {
    expect(value('queue_delete')).not.toContain('zc_flow');
  });
});
