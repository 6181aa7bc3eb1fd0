/** The live-tail page in headless Chromium, RabbitMQ backend (the suite: live-tail.suite.ts). */
import { afterAll, inject } from 'vitest';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { liveTailSuite } from './live-tail.suite.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('livetail');
afterAll(async () => {
  await deleteTopology(url, exchange, [{ kind: 'catalog' }, { kind: 'queue', project: 'demo', queue: 'tripleo' }]);
}, 60_000);

liveTailSuite({ name: 'rabbitmq', backend: { type: 'rabbitmq', url, exchange }, durable: true });
