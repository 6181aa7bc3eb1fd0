/**
 * JSON Schema validation through the whole application (docs/schemas.md): the shipped
 * schemas, bound by queue-name pattern and by `_schema` metadata, on REST and WebSocket
 * posts, with Zaqar-shaped 400s naming the message, path and rule; nothing of a bad batch is
 * stored; the schema catalogue routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';

const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'schemas' };
const good = {
  type: 'tripleo.deployment.v1.deploy_plan',
  payload: { status: 'RUNNING', message: 'go', execution_id: '6f1c2c4e-8d4f-4b8e-9a43-2b7c1f0e9d11', root_execution_id: null, plan_name: 'overcloud', deployment_status: 'DEPLOYING' },
};
const bad = { ...good, payload: { ...good.payload, status: 'DONE' } };
const STATUS_TEXT = 'Message 2 is invalid: /payload/status must be one of RUNNING, SUCCESS, FAILED';

let app: App;
let rest: string;
let wsUrl: string;

beforeAll(async () => {
  const config = parseConfig({
    server: { restPort: 0, wsPort: 0 },
    log: { level: 'silent' },
    validation: { queueSchemas: [{ pattern: 'tripleo*', schema: 'tripleo-workflow-message-v1' }] },
  });
  app = buildApp(config, { logger: createLogger({ level: 'silent' }) });
  const ports = await app.start();
  rest = `http://127.0.0.1:${ports.restPort}`;
  wsUrl = `ws://127.0.0.1:${ports.wsPort}`;
});
afterAll(async () => {
  await app.close();
});

async function call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
  const res = await fetch(`${rest}${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json', ...extra },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function wsRequest(frame: unknown): Promise<{ body: unknown; headers: { status: number } }> {
  const ws = new WebSocket(wsUrl);
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify(frame));
  const reply = await new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
  ws.close();
  return JSON.parse(reply) as { body: unknown; headers: { status: number } };
}

describe('schema validation of message bodies', () => {
  it('refuses a REST batch with one bad message by pattern binding, storing none of it', async () => {
    const r = await call('POST', '/v2/queues/tripleo/messages', { messages: [{ body: good }, { body: bad }] });
    expect(r).toEqual({ status: 400, body: { title: 'Invalid API request', description: STATUS_TEXT } });
    const list = await call('GET', '/v2/queues/tripleo/messages?echo=true');
    expect(list.body).toEqual({ messages: [], links: [] });
    expect((await call('POST', '/v2/queues/tripleo/messages', { messages: [{ body: good }] })).status).toBe(201);
  });

  it('refuses the same over WebSocket in Zaqar\'s endpoint error shape', async () => {
    const r = await wsRequest({
      action: 'message_post',
      headers,
      body: { queue_name: 'tripleo-ws', messages: [{ body: good }, { body: bad }] },
    });
    expect(r.headers.status).toBe(400);
    expect(r.body).toEqual({ exception: STATUS_TEXT, error: null });
  });

  it('binds by _schema metadata (REST PUT and WebSocket queue_create) and rejects unknown names', async () => {
    expect((await call('PUT', '/v2/queues/events', { _schema: 'orchestrator-event-v1' })).status).toBe(201);
    const refused = await call('POST', '/v2/queues/events/messages', { messages: [{ body: { name: 'invalidateCache', value: { type: 'nope' } } }] });
    expect(refused.status).toBe(400);
    expect((refused.body as { description: string }).description).toMatch(/^Message 1 is invalid: \/value/);
    const ok = await call('POST', '/v2/queues/events/messages', { messages: [{ body: { name: 'invalidateCache', value: { type: 'engineStatus' } } }] });
    expect(ok.status).toBe(201);
    expect((await call('PUT', '/v2/queues/other', { _schema: 'no-such-schema' })).status).toBe(400);
    const ws = await wsRequest({ action: 'queue_create', headers, body: { queue_name: 'ws-bound', metadata: { _schema: 'no-such-schema' } } });
    expect(ws.headers.status).toBe(400);
    const wsOk = await wsRequest({ action: 'queue_create', headers, body: { queue_name: 'ws-bound', metadata: { _schema: 'orchestrator-event-v1' } } });
    expect(wsOk.headers.status).toBe(201);
  });

  it('binds by PATCH of the metadata too', async () => {
    await call('PUT', '/v2/queues/patched');
    const patch = await call(
      'PATCH',
      '/v2/queues/patched',
      [{ op: 'add', path: '/metadata/_schema', value: 'orchestrator-event-v1' }],
      { 'Content-Type': 'application/openstack-messaging-v2.0-json-patch' },
    );
    expect(patch.status).toBe(200);
    expect((await call('POST', '/v2/queues/patched/messages', { messages: [{ body: 42 }] })).status).toBe(400);
  });

  it('lists and serves the schemas', async () => {
    const list = await call('GET', '/v2/schemas');
    expect(list.status).toBe(200);
    const names = (list.body as { schemas: { name: string }[] }).schemas.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['tripleo-workflow-message-v1', 'orchestrator-event-v1']));
    const one = await call('GET', '/v2/schemas/tripleo-workflow-message-v1');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ $id: expect.stringContaining('tripleo-workflow-message-v1') as string });
    expect((await call('GET', '/v2/schemas/unknown')).status).toBe(404);
  });
});
