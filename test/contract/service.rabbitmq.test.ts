/**
 * The ZaqarService contract, unchanged, on a real RabbitMQ (issue: "the contract suite from
 * the foundation passes unchanged on RabbitMQ"). Every backend the suite makes is a separate
 * AMQP connection — a separate "pod" — on one exchange of this run; the streams it created
 * are deleted at the end.
 */
import { afterAll, inject } from 'vitest';
import { RabbitMqBackend } from '../../src/backends/rabbitmq/index.js';
import type { Backend, LogRef } from '../../src/core/ports.js';
import { deleteTopology, uniqueExchange } from '../fixtures/rabbitmq-helpers.js';
import { serviceContract } from './service.contract.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('svc');
const logs = new Map<string, LogRef>();

function makeBackend(): Backend {
  const backend = new RabbitMqBackend({ url, exchange });
  const append = backend.append.bind(backend);
  const tail = backend.tail.bind(backend);
  // Remember every log written or tailed (both declare its stream), to delete them afterwards.
  backend.append = (log, event) => {
    logs.set(JSON.stringify(log), log);
    return append(log, event);
  };
  backend.tail = (log, start, handler) => {
    logs.set(JSON.stringify(log), log);
    return tail(log, start, handler);
  };
  return backend;
}

afterAll(async () => {
  await deleteTopology(url, exchange, [...logs.values()]);
}, 60_000);

serviceContract('RabbitMQ', { makeBackend, timeoutMs: 60_000 });
