/** Live coalescing on the RabbitMQ backend (the suite: coalesce.suite.ts). */
import { afterAll, beforeAll, inject } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { COALESCE_PROJECT, coalesceSuite, type CoalesceTarget } from './coalesce.suite.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('coalesce');
let app: App;
let ports: CoalesceTarget;
beforeAll(async () => {
  const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' }, backend: { type: 'rabbitmq', url, exchange } });
  app = buildApp(config, { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  ports = await app.start();
}, 60_000);
afterAll(async () => {
  await app.close();
  await deleteTopology(url, exchange, [{ kind: 'catalog' }, ...['events', 'plain', 'badrule'].map((queue) => ({ kind: 'queue' as const, project: COALESCE_PROJECT, queue }))]);
}, 60_000);

coalesceSuite('rabbitmq', () => ports);
