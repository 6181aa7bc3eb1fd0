/**
 * A real broker restart in the middle of a stream of appends (`rabbitmqctl stop_app` /
 * `start_app`): nothing acknowledged is lost, appends during the outage fail fast with 503,
 * tails resume without gap or duplicate, and the status goes down then up.
 *
 * The broker it restarts is a private node of this test's own (test/fixtures/private-rabbitmq.ts);
 * the shared broker of `RABBITMQ_URL` is only watched, to prove it was not disturbed.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isZaqarError } from '../../src/core/errors.js';
import type { BackendStatus, LogRef } from '../../src/core/ports.js';
import { RabbitMqBackend } from '../../src/backends/rabbitmq/index.js';
import { startPrivateRabbitMq, watchSharedBroker, type PrivateRabbitMq } from '../fixtures/private-rabbitmq.js';
import { barrier, expectInOrder, record, uniqueExchange, until } from '../fixtures/rabbitmq-helpers.js';

const exchange = uniqueExchange('restart');
const log: LogRef = { kind: 'queue', project: 'p.restart', queue: 'jobs.1' };

let broker: PrivateRabbitMq;
let shared: Awaited<ReturnType<typeof watchSharedBroker>>;
let backend: RabbitMqBackend | null = null;
let url = '';

beforeAll(async () => {
  shared = await watchSharedBroker(inject('amqpUrl'));
  broker = await startPrivateRabbitMq('restart');
  url = broker.url;
}, 120_000);

afterAll(async () => {
  await backend?.close();
  await broker?.close();
  await shared?.close();
}, 60_000);

describe('RabbitMQ restart', { timeout: 120_000 }, () => {
  it('loses nothing acknowledged, fails fast while down, resumes tails exactly', async () => {
    const b = new RabbitMqBackend({ url, exchange, reconnectMinMs: 100, reconnectMaxMs: 1000, ingressQueueType: 'classic' });
    backend = b;
    const statuses: BackendStatus['type'][] = [];
    b.onStatus((s) => statuses.push(s.type));
    await b.start();
    const live = record(b, log, 'first');

    const acked: string[] = [];
    const outageRejections: number[] = [];
    const other: string[] = [];
    let stop = false;
    let i = 0;
    const producer = (async () => {
      while (!stop) {
        const e = barrier(i++);
        const t0 = Date.now();
        try {
          await b.append(log, e);
          acked.push(e.rid);
        } catch (err) {
          if (isZaqarError(err) && err.code === 'ZQR_ERR_BROKER_UNAVAILABLE') outageRejections.push(Date.now() - t0);
          else other.push(err instanceof Error ? `${err.message} / ${err.cause instanceof Error ? err.cause.message : ''}` : String(err));
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    })();

    await until(() => acked.length >= 200, 20_000, '200 appends before the restart');
    await broker.stopApp();
    await until(() => b.status().type === 'down', 20_000, 'status down');
    const ackedBeforeRestart = acked.length;
    await new Promise((r) => setTimeout(r, 500)); // appends keep failing meanwhile
    await broker.startApp();
    await until(() => b.status().type === 'up', 60_000, 'status up');
    await until(() => acked.length >= ackedBeforeRestart + 200, 30_000, '200 appends after the restart');
    stop = true;
    await producer;

    expect(other).toEqual([]);
    expect(outageRejections.length).toBeGreaterThan(0);
    // Fast failure: no append during the outage waited for a timeout (the in-flight ones at the
    // moment of the drop are failed by the channel close, the others at once).
    expect(Math.max(...outageRejections)).toBeLessThan(1000);
    expect(statuses).toEqual(['up', 'down', 'up']);

    // The live tail resumed without gap or duplicate, and every acknowledged append is there.
    await until(() => acked.every((rid) => live.records.some((r) => r.event.rid === rid)), 30_000, 'tail caught up');
    const seen = live.records.map((r) => r.event.rid);
    expect(new Set(seen).size).toBe(seen.length);
    const ackedSet = new Set(acked);
    expectInOrder(
      live.records.filter((r) => ackedSet.has(r.event.rid)),
      acked,
    );
    live.close();

    // A fresh reader agrees with the live one, record for record.
    const fresh = record(b, log, 'first');
    await fresh.waitFor(live.records.length, 20_000);
    expect(fresh.records.slice(0, live.records.length)).toEqual(live.records);
    fresh.close();
    expect(await shared.undisturbed()).toBe(true);
  });
});
