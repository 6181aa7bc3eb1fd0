/**
 * The Backend port contract on a real RabbitMQ (never mocked), plus what only this backend has:
 * names and escaping, foreign messages through the ingress queue, and failure injection
 * through a TCP proxy (so the shared broker itself keeps running).
 */
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isZaqarError } from '../../src/core/errors.js';
import type { BackendStatus, LogRef } from '../../src/core/ports.js';
import {
  RabbitMqBackend,
  parseForeignMessage,
  parseRoutingKey,
  routingKeyOf,
  streamNameOf,
  topologyNames,
} from '../../src/backends/rabbitmq/index.js';
import type { Diagnostic, ForeignDelivery } from '../../src/backends/rabbitmq/index.js';
import { coalesceWrites } from '../../src/backends/rabbitmq/connection.js';
import { startAmqpProxy } from '../fixtures/rabbitmq-proxy.js';
import type { AmqpProxy } from '../fixtures/rabbitmq-proxy.js';
import { barrier, deleteTopology, expectInOrder, queueArguments, record, uniqueExchange, until } from '../fixtures/rabbitmq-helpers.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('contract');
const used: LogRef[] = [{ kind: 'catalog' }];
let n = 0;
/** A fresh queue log (its stream is deleted after the run). */
function freshLog(project = 'p1'): LogRef {
  n += 1;
  const log: LogRef = { kind: 'queue', project, queue: `q${n}` };
  used.push(log);
  return log;
}

const backends: RabbitMqBackend[] = [];
function backend(over: Partial<{ url: string; confirmTimeoutMs: number }> = {}): RabbitMqBackend {
  const b = new RabbitMqBackend({
    url: over.url ?? url,
    exchange,
    confirmTimeoutMs: over.confirmTimeoutMs ?? 5000,
    reconnectMinMs: 50,
    reconnectMaxMs: 500,
    ingressQueueType: 'classic',
  });
  backends.push(b);
  return b;
}

let a: RabbitMqBackend;

beforeAll(async () => {
  a = backend();
  await a.start();
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await deleteTopology(url, exchange, used);
});

describe('names', () => {
  const names = topologyNames('zaqar');

  it('maps logs to readable, escaped stream names', () => {
    expect(streamNameOf(names, { kind: 'catalog' })).toBe('zaqar.catalog');
    expect(streamNameOf(names, { kind: 'queue', project: 'abc', queue: 'jobs.in-1' })).toBe('zaqar.q.abc.jobs%2Ein-1');
    expect(streamNameOf(names, { kind: 'queue', project: 'a.b', queue: 'c' })).toBe('zaqar.q.a%2Eb.c');
    expect(streamNameOf(names, { kind: 'queue', project: 'a', queue: 'b.c' })).not.toBe(
      streamNameOf(names, { kind: 'queue', project: 'a.b', queue: 'c' }),
    );
    expect(streamNameOf(names, { kind: 'queue', project: 'é%', queue: 'q' })).toBe('zaqar.q.%C3%A9%25.q');
  });

  it('hashes names longer than 255 bytes, deterministically', () => {
    const long: LogRef = { kind: 'queue', project: 'p'.repeat(256), queue: 'q' };
    const name = streamNameOf(names, long);
    expect(name).toMatch(/^zaqar\.q\.~[0-9a-f]{64}$/);
    expect(streamNameOf(names, long)).toBe(name);
    expect(streamNameOf(names, { kind: 'queue', project: 'p'.repeat(256), queue: 'r' })).not.toBe(name);
  });

  it('routing keys round-trip, the first dot separating project from queue', () => {
    for (const [project, queue] of [
      ['abc', 'jobs'],
      ['a.b%c', 'x.y.z'],
      ['tenant-ü', 'q_1'],
    ] as const) {
      const key = routingKeyOf(project, queue);
      expect(key).not.toBeNull();
      expect(parseRoutingKey(key ?? '')).toEqual({ project, queue });
    }
    expect(routingKeyOf('a.b', 'c')).toBe('a%2Eb.c');
    expect(routingKeyOf('p'.repeat(256), 'q')).toBeNull();
    expect(parseRoutingKey('noqueue')).toBeNull();
    expect(parseRoutingKey('.q')).toBeNull();
    expect(parseRoutingKey('p.')).toBeNull();
    expect(parseRoutingKey('%E0%A4%A.q')).toBeNull();
  });

  it('reads foreign messages in Zaqar format or as bare bodies', () => {
    expect(parseForeignMessage(Buffer.from('{"body":{"a":1},"ttl":300}'))).toEqual({ body: { a: 1 }, ttl: 300 });
    expect(parseForeignMessage(Buffer.from('{"body":1,"other":2}'))).toEqual({ body: { body: 1, other: 2 } });
    expect(parseForeignMessage(Buffer.from('{"event":"done"}'))).toEqual({ body: { event: 'done' } });
    expect(parseForeignMessage(Buffer.from('"hi"'))).toEqual({ body: 'hi' });
    expect(parseForeignMessage(Buffer.from('not json'))).toBeNull();
  });
});

describe('frame coalescing (amqplib internals)', () => {
  it('engages on the pinned amqplib, and a burst of publishes leaves in a few writev calls', async () => {
    const model = await connect(url);
    try {
      // If an amqplib upgrade changes the internals it relies on, this fails (the backend would
      // silently fall back to one syscall per frame).
      expect(coalesceWrites(model)).toBe(true);
      const socket = (model as unknown as { connection: { stream: { _writev?: unknown; _write: unknown } } }).connection.stream;
      let writes = 0;
      for (const name of ['_write', '_writev'] as const) {
        const original = socket[name];
        if (typeof original !== 'function') continue;
        socket[name] = function counted(this: unknown, ...args: unknown[]): unknown {
          writes += 1;
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        };
      }
      const ch = await model.createConfirmChannel();
      const q = `zt-cork-${Date.now()}`;
      await ch.assertQueue(q, { exclusive: true });
      writes = 0;
      for (let i = 0; i < 200; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
      await ch.waitForConfirms();
      expect(writes).toBeGreaterThan(0);
      expect(writes).toBeLessThan(40); // one per publish without coalescing
      expect((await ch.checkQueue(q)).messageCount).toBe(200);
    } finally {
      await model.close();
    }
  });
});

describe('append and tail', () => {
  it('append resolves after the confirm and the record is tailable', async () => {
    const log = freshLog();
    const ev = barrier(1);
    await a.append(log, ev);
    const rec = record(a, log, 'first');
    const [got] = await rec.waitFor(1);
    rec.close();
    expect(got?.event).toEqual(ev);
    expect(got?.offset).toBeGreaterThanOrEqual(0);
  });

  it('keeps the order of many appends, offsets strictly increasing', async () => {
    const log = freshLog();
    const events = Array.from({ length: 500 }, (_, i) => barrier(i));
    const live = record(a, log, 'first');
    await Promise.all(events.map((e) => a.append(log, e)));
    await live.waitFor(500);
    expectInOrder(live.records, events.map((e) => e.rid));
    live.close();
  });

  it('two pods see each other’s records in the same order', async () => {
    const b = backend();
    await b.start();
    const log = freshLog();
    const onA = record(a, log, 'first');
    const onB = record(b, log, 'first');
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) writes.push((i % 2 === 0 ? a : b).append(log, barrier(i)));
    await Promise.all(writes);
    await onA.waitFor(100);
    await onB.waitFor(100);
    expect(onB.records).toEqual(onA.records);
    expect(new Set(onA.records.map((r) => r.event.rid)).size).toBe(100);
    onA.close();
    onB.close();
    await b.close();
  });

  it('writes to brand-new streams from another pod without losing the connection (RabbitMQ 3.10 leader race)', async () => {
    const b = backend();
    await b.start();
    const drops: Diagnostic[] = [];
    b.onDiagnostic((d) => {
      if (d.type === 'reconnect_scheduled' || d.type === 'publish_retried') drops.push(d);
    });
    const logs = Array.from({ length: 20 }, () => freshLog());
    const tails = logs.map((log) => record(a, log, 'first')); // pod A creates the streams
    await Promise.all(logs.map((log, i) => b.append(log, barrier(i)))); // pod B writes at once
    await Promise.all(tails.map((t) => t.waitFor(1)));
    for (const t of tails) t.close();
    expect(drops).toEqual([]);
    await b.close();
  });

  it('tails from first, next and an offset', async () => {
    const log = freshLog();
    for (let i = 0; i < 5; i++) await a.append(log, barrier(i));
    const fromFirst = record(a, log, 'first');
    const all = [...(await fromFirst.waitFor(5))];
    fromFirst.close();
    const third = all[2];
    if (third === undefined) throw new Error('missing record');

    const fromOffset = record(a, log, { offset: third.offset });
    const fromNext = record(a, log, 'next');
    const later = barrier(5);
    await a.append(log, later); // waits for the `next` tail's consumer, so it cannot be missed
    await fromOffset.waitFor(4);
    await fromNext.waitFor(1);
    expect(fromOffset.records.map((r) => r.offset)).toEqual([...all.slice(2).map((r) => r.offset), fromNext.records[0]?.offset]);
    expect(fromNext.records.map((r) => r.event)).toEqual([later]);
    fromOffset.close();
    fromNext.close();
  });

  it('a tail delivers each record once and stops after close()', async () => {
    const log = freshLog();
    const rec = record(a, log, 'first');
    await a.append(log, barrier(1));
    await rec.waitFor(1);
    rec.close();
    rec.close();
    await a.append(log, barrier(2));
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.records).toHaveLength(1);
  });

  it('firstOffset: null for an unknown or empty log, else the oldest record', async () => {
    const log = freshLog();
    expect(await a.firstOffset(log)).toBeNull();
    const rec = record(a, log, 'first'); // declares the stream: it now exists but is empty
    await new Promise((r) => setTimeout(r, 300));
    expect(await a.firstOffset(log)).toBeNull();
    await a.append(log, barrier(1));
    await a.append(log, barrier(2));
    const [first] = await rec.waitFor(2);
    expect(await a.firstOffset(log)).toBe(first?.offset);
    rec.close();
  });

  it('deleteLog removes the stream; tails of it (on this and another pod) do not declare it again; an append refuses', async () => {
    const log = freshLog();
    if (log.kind !== 'queue') throw new Error('a queue log');
    const b = backend();
    await b.start();
    const diagnostics: Diagnostic[] = [];
    b.onDiagnostic((d) => diagnostics.push(d));
    const mine = record(a, log, 'first');
    const theirs = record(b, log, 'first');
    await a.append(log, barrier(1));
    await Promise.all([mine.waitFor(1), theirs.waitFor(1)]);
    const stream = streamNameOf(topologyNames(exchange), log);
    await a.deleteLog(log);
    await a.deleteLog(log); // idempotent
    // The other pod's tail was cancelled and has since tried, at least twice, to re-register.
    await until(() => diagnostics.filter((d) => d.type === 'tail_error' && d.stream === stream).length >= 2, 10_000, 'retries');
    expect(diagnostics.some((d) => d.type === 'tail_cancelled' && d.stream === stream)).toBe(true);
    expect(await a.firstOffset(log)).toBeNull();
    expect(queueArguments(inject('rabbitmqCtl'), stream)).toBe('');
    // A writer that declared the stream before the deletion is refused, and does not declare it.
    const refused = await b.append(log, barrier(2)).then(() => null, (e: unknown) => e);
    expect(isZaqarError(refused) && refused.status).toBe(503);
    expect(queueArguments(inject('rabbitmqCtl'), stream)).toBe('');
    mine.close();
    theirs.close();
    expect(mine.records).toHaveLength(1);
    expect(theirs.records).toHaveLength(1);
  });

  it('stores the catalogue in its own log', async () => {
    const catalog: LogRef = { kind: 'catalog' };
    const ev = { type: 'queue_create', rid: `c-${Date.now()}`, at: 1, project: 'p1', queue: 'q', metadata: {} } as const;
    const rec = record(a, catalog, 'next');
    await a.append(catalog, ev);
    await rec.waitFor(1);
    expect(rec.records[0]?.event).toEqual(ev);
    rec.close();
  });

  it('skips stream records that are not events', async () => {
    const log = freshLog();
    await a.append(log, barrier(1));
    const model = await connect(url);
    const ch = await model.createConfirmChannel();
    ch.sendToQueue(streamNameOf(topologyNames(exchange), log), Buffer.from('not an event'));
    await ch.waitForConfirms();
    await model.close();
    await a.append(log, barrier(2));
    const skipped: Diagnostic[] = [];
    const off = a.onDiagnostic((d) => {
      if (d.type === 'record_skipped') skipped.push(d);
    });
    const rec = record(a, log, 'first');
    await rec.waitFor(2);
    expect(rec.records.map((r) => r.event.at)).toEqual([1, 2]);
    expect(skipped).toHaveLength(1);
    off();
    rec.close();
  });
});

describe('broker failures', () => {
  let proxy: AmqpProxy;
  beforeAll(async () => {
    proxy = await startAmqpProxy(url);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('append rejects fast with ZQR_ERR_BROKER_UNAVAILABLE when never connected', async () => {
    const down = backend({ url: 'amqp://guest:guest@127.0.0.1:1' });
    void down.start().catch(() => undefined);
    const t0 = Date.now();
    const err: unknown = await down.append(freshLog(), barrier(1)).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(isZaqarError(err) && err.code).toBe('ZQR_ERR_BROKER_UNAVAILABLE');
    expect(isZaqarError(err) && err.status).toBe(503);
    expect(down.status().type).toBe('down');
    await expect(down.firstOffset(freshLog())).rejects.toMatchObject({ code: 'ZQR_ERR_BROKER_UNAVAILABLE' });
    await down.close();
  });

  it('does not redial after a fatal handshake refusal (wrong credentials)', async () => {
    const wrong = new URL(url);
    wrong.password = 'definitely-wrong';
    const bad = backend({ url: wrong.toString() });
    const retries: Diagnostic[] = [];
    bad.onDiagnostic((d) => retries.push(d));
    const err: unknown = await bad.start().catch((e: unknown) => e);
    expect(isZaqarError(err) && err.code).toBe('ZQR_ERR_INTERNAL');
    await new Promise((r) => setTimeout(r, 300));
    expect(retries.filter((d) => d.type === 'reconnect_scheduled')).toEqual([]);
    expect(bad.status().type).toBe('down');
    await bad.close();
  });

  it('goes down and up again, rejects appends meanwhile, and tails resume without gap or duplicate', async () => {
    const b = backend({ url: proxy.url });
    const statuses: BackendStatus['type'][] = [];
    b.onStatus((s) => statuses.push(s.type));
    await b.start();
    const log = freshLog();
    const rec = record(b, log, 'first');
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const e = barrier(i);
      await b.append(log, e);
      acked.push(e.rid);
    }
    await rec.waitFor(20);

    proxy.refuse(true);
    proxy.kill();
    await until(() => b.status().type === 'down', 5000, 'status down');
    const t0 = Date.now();
    const err: unknown = await b.append(log, barrier(99)).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(isZaqarError(err) && err.code).toBe('ZQR_ERR_BROKER_UNAVAILABLE');

    // Another pod keeps writing while this one is cut off.
    for (let i = 20; i < 30; i++) {
      const e = barrier(i);
      await a.append(log, e);
      acked.push(e.rid);
    }
    proxy.refuse(false);
    await until(() => b.status().type === 'up', 10_000, 'status up');
    for (let i = 30; i < 40; i++) {
      const e = barrier(i);
      await b.append(log, e);
      acked.push(e.rid);
    }
    await rec.waitFor(40);
    await new Promise((r) => setTimeout(r, 200));
    expectInOrder(rec.records, acked);
    expect(statuses).toEqual(['up', 'down', 'up']);
    rec.close();
  });

  it('an append whose confirm never comes rejects after confirmTimeoutMs', async () => {
    const b = backend({ url: proxy.url, confirmTimeoutMs: 300 });
    await b.start();
    const log = freshLog();
    await b.append(log, barrier(1)); // stream declared
    // Stop forwarding without closing: the socket stays open, nothing gets through.
    proxy.stall(true);
    const t0 = Date.now();
    const err: unknown = await b.append(log, barrier(2)).catch((e: unknown) => e);
    const took = Date.now() - t0;
    proxy.stall(false);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1000);
    expect(isZaqarError(err) && err.code).toBe('ZQR_ERR_BROKER_UNAVAILABLE');
    await b.close();
  });
});

describe('close', () => {
  it('is idempotent, ends tails, and later appends reject with 503', async () => {
    const b = backend();
    await b.start();
    const log = freshLog();
    const rec = record(b, log, 'first');
    await b.append(log, barrier(1));
    await rec.waitFor(1);
    const p1 = b.close();
    const p2 = b.close();
    expect(p2).toBe(p1);
    await p1;
    expect(b.status().type).toBe('down');
    await a.append(log, barrier(2));
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.records).toHaveLength(1);
    await expect(b.append(log, barrier(3))).rejects.toMatchObject({ code: 'ZQR_ERR_BROKER_UNAVAILABLE' });
  });
});

describe('foreign messages (workflows publishing to the exchange)', () => {
  it('delivers messages published before and after a handler is set, with project and queue', async () => {
    const model = await connect(url);
    const ch = await model.createConfirmChannel();
    const key = routingKeyOf('proj.x', 'jobs.in');
    if (key === null) throw new Error('key');
    // Published before any handler: the ingress queue holds it (nothing vanishes).
    ch.publish(exchange, key, Buffer.from('{"body":{"step":1},"ttl":120}'), { messageId: 'wf-1' });
    await ch.waitForConfirms();

    const got: ForeignDelivery[] = [];
    const off = a.onForeignMessage((d) => {
      got.push(d);
      d.ack();
    });
    ch.publish(exchange, key, Buffer.from('{"step":2}'), { messageId: 'wf-2' });
    await ch.waitForConfirms();
    await until(() => got.length === 2, 10_000, 'two foreign messages');
    expect(got.map((d) => [d.project, d.queue, d.messageId])).toEqual([
      ['proj.x', 'jobs.in', 'wf-1'],
      ['proj.x', 'jobs.in', 'wf-2'],
    ]);
    expect(parseForeignMessage(got[0]?.raw ?? Buffer.alloc(0))).toEqual({ body: { step: 1 }, ttl: 120 });
    off();
    await model.close();
  });

  it('requeues on reject(true), dead-letters on reject(false) and unparseable routing keys', async () => {
    const names = topologyNames(exchange);
    const model = await connect(url);
    const ch = await model.createConfirmChannel();
    let attempts = 0;
    const settled: string[] = [];
    const off = a.onForeignMessage((d) => {
      if (d.messageId === 'retry-me' && attempts++ === 0) {
        d.reject(true);
        return;
      }
      settled.push(d.messageId ?? '');
      if (d.messageId === 'bad') d.reject(false);
      else d.ack();
    });
    ch.publish(exchange, 'p.q', Buffer.from('1'), { messageId: 'retry-me' });
    ch.publish(exchange, 'p.q', Buffer.from('2'), { messageId: 'bad' });
    ch.publish(exchange, 'no-dot', Buffer.from('3'), { messageId: 'nodot' });
    await ch.waitForConfirms();
    await until(() => settled.length === 2, 10_000, 'settled');
    expect(settled.sort()).toEqual(['bad', 'retry-me']);
    const check = await model.createChannel();
    let dead = 0;
    const deadline = Date.now() + 5000;
    while (dead < 2 && Date.now() < deadline) {
      dead = (await check.checkQueue(names.deadLetterQueue)).messageCount;
      if (dead < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(dead).toBe(2);
    // Bounded for the operator: by age and by count (see topology.ts).
    const deadLine = queueArguments(inject('rabbitmqCtl'), names.deadLetterQueue);
    expect(deadLine).toMatch(/x-message-ttl[^}]*1209600000/);
    expect(deadLine).toMatch(/x-max-length[^}]*100000/);
    off();
    await model.close();
  });
});
