/**
 * The SDK reattaching through random cuts, RabbitMQ backend, two bridge pods: every cut sends
 * the client to the other pod, posts alternate between the pods; 3,000 messages arrive once
 * each, in order — markers are the same on every pod.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { expectExactlyOnceInOrder, runReattach, type Bridge } from './sdk-reattach.suite.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('sdk');
const project = `sdk-${randomUUID().slice(0, 8)}`;
const queue = 'cuts';
const apps: App[] = [];
const bridges: Bridge[] = [];

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' }, backend: { type: 'rabbitmq', url, exchange } });
    const app = buildApp(config, { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
    apps.push(app);
    bridges.push(await app.start());
  }
}, 60_000);

afterAll(async () => {
  for (const app of apps) await app.close();
  await deleteTopology(url, exchange, [{ kind: 'catalog' }, { kind: 'queue', project, queue }]);
}, 60_000);

describe('the SDK through a link cut at random moments, across two pods (RabbitMQ)', { timeout: 180_000 }, () => {
  it('delivers every message once, in order', async () => {
    const messages = 3000;
    const result = await runReattach({ bridges, project, queue, messages, batch: 10 });
    expectExactlyOnceInOrder(result, messages);
  });
});
