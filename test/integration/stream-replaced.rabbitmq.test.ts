/**
 * An operator deletes a live queue's stream behind the bridge's back (the queue stays in the
 * catalogue) and the next post creates it again: a new log whose offsets start from 0. The
 * pods that were tailing the old stream must notice that it is a new log and start their
 * fold over on it — not resume at their old offset, which on the new log would wait for, and
 * then skip, every record below it. Afterwards every pod, and a pod started fresh, holds the
 * same messages, and a listener of the queue gets what is posted to the new log.
 */
import { connect } from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RabbitMqBackend, streamNameOf, topologyNames, type Diagnostic } from '../../src/backends/rabbitmq/index.js';
import { createZaqarService, type ZaqarEngine } from '../../src/core/engine.js';
import { isZaqarError } from '../../src/core/errors.js';
import type { LogRef, RequestContext } from '../../src/core/index.js';
import type { Json, Notification } from '../../src/core/types.js';
import { deleteTopology, uniqueExchange, until } from '../fixtures/rabbitmq-helpers.js';

const url = inject('amqpUrl');
const exchange = uniqueExchange('replaced');
const ctx: RequestContext = { project: 'p-replaced', clientId: null };
const QUEUE = 'tripleo';
const log: LogRef = { kind: 'queue', project: ctx.project, queue: QUEUE };
const open: { close(): Promise<void> }[] = [];

async function pod(diagnostics?: Diagnostic[]): Promise<ZaqarEngine> {
  const b = new RabbitMqBackend({ url, exchange, ingressQueueType: 'classic', reconnectMinMs: 50, reconnectMaxMs: 500 });
  if (diagnostics !== undefined) b.onDiagnostic((d) => diagnostics.push(d));
  open.push(b);
  const s = createZaqarService({ backend: b, readBackTimeoutMs: 3_000 });
  open.push(s);
  await s.start();
  return s;
}

/** Posts until the bridge answers 201: right after the deletion it may answer 503 (retry). */
async function post(s: ZaqarEngine, body: Json): Promise<number> {
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      await s.postMessages(ctx, QUEUE, [{ body }]);
      return attempt;
    } catch (e) {
      if (!isZaqarError(e) || e.status !== 503) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${JSON.stringify(body)}: no 201 in 10 attempts`);
}

async function bodies(s: ZaqarEngine): Promise<Json[]> {
  const listed = await s.listMessages(ctx, QUEUE, { limit: 20, echo: true });
  return listed.messages.map((m) => m.body);
}

afterAll(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  await deleteTopology(url, exchange, [{ kind: 'catalog' }, log]);
}, 60_000);

describe('a queue stream deleted and created again behind the bridge', { timeout: 90_000 }, () => {
  it('makes every pod start its fold over on the new log', async () => {
    const diagnostics: Diagnostic[] = [];
    const a = await pod();
    const b = await pod(diagnostics);
    const heard: Json[] = [];
    const stop = await b.watch(ctx.project, QUEUE, (n: Notification) => heard.push(n.body));
    for (let i = 0; i < 5; i++) await post(a, { old: i });
    await until(() => heard.length === 5, 10_000, 'the old messages on pod b');
    expect(await bodies(b)).toEqual([0, 1, 2, 3, 4].map((i) => ({ old: i })));

    // The operator's deletion, on a connection of its own.
    const stream = streamNameOf(topologyNames(exchange), log);
    const operator = await connect(url);
    const channel = await operator.createChannel();
    await channel.deleteQueue(stream);
    await operator.close();

    await post(a, { new: 0 }); // creates the stream again
    for (let i = 1; i < 3; i++) expect(await post(a, { new: i })).toBe(1);
    // Pod b read the new log from its start: its listener got the new messages, in order.
    await until(() => heard.some((h) => JSON.stringify(h) === '{"new":2}'), 15_000, 'the new messages on pod b');
    const after = heard.slice(5).map((h) => JSON.stringify(h));
    expect([...new Set(after)]).toEqual(['{"new":0}', '{"new":1}', '{"new":2}']);
    expect(diagnostics.some((d) => d.type === 'stream_replaced' && d.stream === stream)).toBe(true);

    // Every pod holds what a pod started now holds: the new log (a post answered 503 may
    // have been stored too, as {new: 0} again), and nothing of the deleted one.
    const fresh = await pod();
    const expected = await bodies(fresh);
    expect(expected.slice(-2)).toEqual([{ new: 1 }, { new: 2 }]);
    expect(expected.some((m) => JSON.stringify(m).includes('old'))).toBe(false);
    expect(await bodies(a)).toEqual(expected);
    expect(await bodies(b)).toEqual(expected);
    stop();
  });
});
