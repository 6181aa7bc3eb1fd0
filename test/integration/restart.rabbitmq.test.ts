/**
 * A real broker restart in the middle of a stream of appends (`rabbitmqctl stop_app` /
 * `start_app`): nothing acknowledged is lost, appends during the outage fail fast with 503,
 * tails resume without gap or duplicate, and the status goes down then up.
 *
 * This stops the shared broker for a few seconds: run it on its own (see the report / vitest
 * wiring), never in parallel with other broker suites.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { isZaqarError } from '../../src/core/errors.js';
import type { BackendStatus, LogRef } from '../../src/core/ports.js';
import { RabbitMqBackend } from '../../src/backends/rabbitmq/index.js';
import { barrier, deleteTopology, expectInOrder, record, uniqueExchange, until } from '../fixtures/rabbitmq-helpers.js';

const run = promisify(execFile);
const url = inject('amqpUrl');
const ctl = inject('rabbitmqCtl');
const exchange = uniqueExchange('restart');
const log: LogRef = { kind: 'queue', project: 'p.restart', queue: 'jobs.1' };

async function rabbitmqctl(...args: string[]): Promise<void> {
  const [cmd, ...pre] = ctl;
  if (cmd === undefined) throw new Error('no rabbitmqctl command');
  await run(cmd, [...pre, ...args], { timeout: 60_000 });
}

let backend: RabbitMqBackend | null = null;

afterAll(async () => {
  await backend?.close();
  await deleteTopology(url, exchange, [log]);
});

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
    await rabbitmqctl('stop_app');
    await until(() => b.status().type === 'down', 20_000, 'status down');
    const ackedBeforeRestart = acked.length;
    await new Promise((r) => setTimeout(r, 500)); // appends keep failing meanwhile
    await rabbitmqctl('start_app');
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
  });
});
