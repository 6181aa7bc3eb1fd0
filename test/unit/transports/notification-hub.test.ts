/**
 * The WebSocket fan-out hub on a real engine (memory backend): one watch per queue, the same
 * encoded buffer to every live subscription, deliveries counted once per fan-out (not once per
 * socket), dropped ones counted apart, and a deleted subscription no longer delivered to.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/backends/memory/memory-backend.js';
import { createZaqarService, type ZaqarEngine } from '../../../src/core/engine.js';
import { type EncodedNotification, NotificationHub, type NotificationSink } from '../../../src/transports/ws/notifications.js';

const ctx = { project: 'p', clientId: '3381af92-2b9e-11e3-b191-71861300734c' };
let engine: ZaqarEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

class Sink implements NotificationSink {
  readonly got: Buffer[] = [];
  constructor(readonly accepts = true) {}
  deliver(n: EncodedNotification): boolean {
    if (!this.accepts) return false;
    this.got.push(n.data(false));
    return true;
  }
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
}

describe('NotificationHub', () => {
  it('sends one buffer to every live subscriber and reports the counts once per fan-out', async () => {
    engine = createZaqarService({ backend: new MemoryBackend() });
    await engine.start();
    const counted: [string, number][] = [];
    const hub = new NotificationHub(engine, pino({ level: 'silent' }), { notification: (outcome, count) => counted.push([outcome, count]) });
    const sinks = [new Sink(), new Sink(), new Sink(false)];
    const ids: string[] = [];
    for (const [i, sink] of sinks.entries()) {
      const sub = await engine.createSubscription(ctx, 'q', { subscriber: `http://127.0.0.1:9/ws/${i}`, ttl: 3600, websocket: true });
      ids.push(sub.id);
      await hub.add(sink, ctx.project, 'q', sub.id);
    }

    await engine.postMessages(ctx, 'q', [{ body: { step: 1 } }]);
    await until(() => counted.length === 2);
    expect(counted).toEqual([
      ['delivered', 2],
      ['dropped', 1],
    ]);
    const [a, b] = sinks;
    expect(a?.got[0]).toBe(b?.got[0]); // the same Buffer object: serialized once
    expect(JSON.parse(a?.got[0]?.toString() ?? '{}')).toMatchObject({ body: { step: 1 }, queue_name: 'q' });

    await engine.deleteSubscription(ctx, 'q', ids[0] ?? '');
    counted.length = 0;
    await engine.postMessages(ctx, 'q', [{ body: { step: 2 } }]);
    await until(() => counted.length === 2);
    expect(counted).toEqual([
      ['delivered', 1],
      ['dropped', 1],
    ]);
    expect([a?.got.length, b?.got.length]).toEqual([1, 2]);
    hub.close();
  });
});
