/**
 * The producer examples of docs/publishing.md (examples/publishing/), run as a workflow author
 * would run them — Debian's python3-pika and python3-kombu, Node's amqplib — against the real
 * broker and a bridge: each message is confirmed, stored once however often it is published
 * with the same message_id, and a bad one is dead-lettered, not stored.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { topologyNames } from '../../src/backends/rabbitmq/topology.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { FOREIGN_REJECTED } from '../../src/observability/metrics.js';
import { PYTHON } from '../fixtures/zaqarclient/python.js';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('examples');
const PROJECT = 'admin';
const EXAMPLES = fileURLToPath(new URL('../../examples/publishing/', import.meta.url));
const headers = { 'Client-ID': '0e9c3c1a-2b3d-4e5f-8a6b-7c8d9e0f1a2b', 'X-Project-ID': PROJECT };

let app: App;
let restPort = 0;
const queues = ['from-pika', 'from-kombu', 'from-amqplib', 'bad', 'shapes', 'ordered'];

beforeAll(async () => {
  const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' }, backend: { type: 'rabbitmq', url, exchange } });
  app = buildApp(config, { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  restPort = (await app.start()).restPort;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await deleteTopology(url, exchange, [{ kind: 'catalog' }, ...queues.map((queue) => ({ kind: 'queue' as const, project: PROJECT, queue }))]);
}, 60_000);

function run(command: string, args: readonly string[], env: Record<string, string>): Promise<{ confirmed: boolean; message_id: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, AMQP_URL: url, ZAQAR_EXCHANGE: exchange, PROJECT, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { confirmed: boolean; message_id: string });
    });
  });
}

/** Every body listed (all pages), polled until `expected` are there or 15 s pass. */
async function listed(queue: string, expected: number): Promise<unknown[]> {
  let bodies: unknown[] = [];
  for (let i = 0; i < 150; i++) {
    bodies = [];
    let path = `/v2/queues/${queue}/messages?echo=true&limit=20`;
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${restPort}${path}`, { headers });
      if (res.status !== 200) break;
      const page = (await res.json()) as { messages: { body: unknown }[]; links: { href: string }[] };
      if (page.messages.length === 0) break;
      bodies.push(...page.messages.map((m) => m.body));
      path = page.links[0]?.href ?? '';
    }
    if (bodies.length >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return bodies;
}

const examples: [string, string, string[]][] = [
  ['pika', PYTHON, [`${EXAMPLES}pika_publish.py`]],
  ['kombu', PYTHON, [`${EXAMPLES}kombu_publish.py`]],
  ['amqplib', process.execPath, [`${EXAMPLES}amqplib_publish.mjs`]],
];

describe('the publishing examples', { timeout: 90_000 }, () => {
  for (const [name, command, args] of examples) {
    it(`${name}: confirmed, stored once when published twice with one message_id`, async () => {
      const queue = `from-${name}`;
      const body = { type: `example.${name}`, payload: { execution_id: randomUUID() } };
      const env = { QUEUE: queue, MESSAGE_ID: randomUUID(), BODY: JSON.stringify(body) };
      expect(await run(command, args, env)).toMatchObject({ confirmed: true, message_id: env.MESSAGE_ID });
      expect(await run(command, args, env)).toMatchObject({ confirmed: true });
      // A second, different message after the repeat: once it is listed, the repeat was folded too.
      const marker = { type: `example.${name}.after` };
      await run(command, args, { QUEUE: queue, BODY: JSON.stringify(marker) });
      expect(await listed(queue, 2)).toEqual([body, marker]);
    });
  }

  it('a body that is not JSON is dead-lettered, not stored', async () => {
    const dead = topologyNames(exchange).deadLetterQueue;
    const amqp = await connect(url);
    try {
      const ch = await amqp.createChannel();
      const before = (await ch.checkQueue(dead)).messageCount;
      await run(PYTHON, [`${EXAMPLES}pika_publish.py`], { QUEUE: 'bad', BODY: 'this is not JSON' });
      await run(PYTHON, [`${EXAMPLES}pika_publish.py`], { QUEUE: 'bad', BODY: '{"type": "fine"}' });
      expect(await listed('bad', 1)).toEqual([{ type: 'fine' }]);
      expect((await ch.checkQueue(dead)).messageCount).toBe(before + 1);
    } finally {
      await amqp.close();
    }
  });

  it('each body shape is read by the one rule; a routing key that names no queue is dead-lettered and counted', async () => {
    const dead = topologyNames(exchange).deadLetterQueue;
    const amqp = await connect(url);
    try {
      const ch = await amqp.createConfirmChannel();
      const before = (await ch.checkQueue(dead)).messageCount;
      const unroutableBefore = app.metrics.value(FOREIGN_REJECTED, { outcome: 'unroutable' });
      const publish = async (routingKey: string, body: unknown): Promise<void> => {
        ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), { persistent: true, contentType: 'application/json' });
        await ch.waitForConfirms();
      };
      await publish('no-dot-here', { type: 'lost' });
      await publish(`${PROJECT}.shapes`, { messages: [{ body: { n: 1 }, ttl: 300 }, { body: { n: 2 } }] });
      await publish(`${PROJECT}.shapes`, { body: { n: 3 }, ttl: 300, delay: 0 });
      await publish(`${PROJECT}.shapes`, { body: 'kept whole', type: 'workflow' });
      await publish(`${PROJECT}.shapes`, { type: 'plain', payload: { n: 5 } });
      // In publish order: the ingress stores one queue's messages one after another.
      expect(await listed('shapes', 5)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { body: 'kept whole', type: 'workflow' }, { type: 'plain', payload: { n: 5 } }]);
      expect((await ch.checkQueue(dead)).messageCount).toBe(before + 1);
      expect(app.metrics.value(FOREIGN_REJECTED, { outcome: 'unroutable' })).toBe(unroutableBefore + 1);
    } finally {
      await amqp.close();
    }
  });

  it('stores one queue\'s published messages in publish order (a RUNNING is never listed after its SUCCESS)', async () => {
    const amqp = await connect(url);
    try {
      const ch = await amqp.createConfirmChannel();
      for (let n = 0; n < 300; n++) ch.publish(exchange, `${PROJECT}.ordered`, Buffer.from(JSON.stringify({ n })), { persistent: true });
      await ch.waitForConfirms();
      const bodies = (await listed('ordered', 300)) as { n: number }[];
      expect(bodies.map((b) => b.n)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    } finally {
      await amqp.close();
    }
  });
});
