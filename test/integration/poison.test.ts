/**
 * Issue 12's defects on the embedded backend (the suite: poison.suite.ts), and reattach across
 * a restart of the embedded backend, whose logs start over empty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { parseConfig } from '../../src/config/index.js';
import type { LogEvent } from '../../src/core/events.js';
import { createLogger } from '../../src/observability/index.js';
import { TestWsClient } from '../fixtures/ws-client.js';
import { poisonSuite, PROJECT, rest, type PoisonTarget } from './poison.suite.js';

async function startApp(backend: MemoryBackend): Promise<{ app: App; restPort: number; wsPort: number }> {
  const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' } });
  const app = buildApp(config, { logger: createLogger({ level: 'silent' }), backend });
  const ports = await app.start();
  return { app, ...ports };
}

poisonSuite({
  name: 'memory',
  async start(): Promise<PoisonTarget> {
    const backend = new MemoryBackend();
    const { app, restPort, wsPort } = await startApp(backend);
    return {
      app,
      restPort,
      wsPort,
      appendRaw: (queue, record) => backend.append({ kind: 'queue', project: PROJECT, queue }, JSON.parse(record) as LogEvent),
      close: () => app.close(),
    };
  },
});

describe('reattach across a restart of the embedded backend', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  const headers = { 'Client-ID': '5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'X-Project-ID': PROJECT };

  async function subscribe(wsPort: number, marker: string): Promise<{ c: TestWsClient; reply: Record<string, unknown> }> {
    const c = await TestWsClient.connect(`ws://127.0.0.1:${wsPort}/`);
    open.push(c);
    const r = (await c.request({ action: 'subscription_create', headers, body: { queue_name: 'tripleo', ttl: 3600, marker } })) as {
      body: Record<string, unknown>;
    };
    return { c, reply: r.body };
  }

  it('tells a client with a marker from before the restart of the gap, replays what the new run holds, and goes on live', async () => {
    // Two runs of the process, the second started later (offsets come from the clock; fixed
    // here so that the first run's markers are numerically within the second run's range too).
    const first = await startApp(new MemoryBackend({ firstQueueOffset: 1_000 }));
    const post = (port: number, body: string) => rest(port)('POST', '/v2/queues/tripleo/messages', `{"messages": [{"ttl": 300, "body": "${body}"}]}`);
    const { c: c1 } = await subscribe(first.wsPort, 'next');
    for (let i = 0; i < 3; i++) await post(first.restPort, `run1-${i}`);
    let marker = '';
    for (let i = 0; i < 3; i++) marker = ((await c1.nextValue()) as { marker: string }).marker;
    await c1.close();
    await first.app.close();

    const second = await startApp(new MemoryBackend({ firstQueueOffset: 1_010 }));
    open.push(second.app);
    // Before anything is posted in the new run: beyond the head.
    const early = await subscribe(second.wsPort, marker);
    expect(early.reply).toMatchObject({ replayed: 0, gap: true });
    for (let i = 0; i < 20; i++) await post(second.restPort, `run2-${i}`);
    const live = [];
    for (let i = 0; i < 20; i++) live.push(((await early.c.nextValue()) as { body: string }).body);
    expect(live).toEqual(Array.from({ length: 20 }, (_, i) => `run2-${i}`));

    // After the new run passed the old marker's number: a gap, and everything the run holds.
    const late = await subscribe(second.wsPort, marker);
    expect(late.reply).toMatchObject({ replayed: 20, gap: true });
    const replayed = [];
    for (let i = 0; i < 20; i++) replayed.push(((await late.c.nextValue()) as { body: string }).body);
    expect(replayed).toEqual(live);
  });

  it('starts queue offsets from the clock by default, so a later run hands out larger markers', async () => {
    const earlier = new MemoryBackend();
    const later = new MemoryBackend();
    const ref = { kind: 'queue' as const, project: 'p', queue: 'q' };
    const barrier = (rid: string): LogEvent => ({ type: 'barrier', rid, at: Date.now() });
    const pause = (): Promise<unknown> => new Promise((r) => setTimeout(r, 25));
    await earlier.append(ref, barrier('a'));
    await pause();
    await later.append(ref, barrier('b'));
    const [a, b] = [await earlier.firstOffset(ref), await later.firstOffset(ref)];
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a ?? Infinity);
    // So does a queue deleted and created again (its log starts where the clock is then).
    await pause();
    await later.deleteLog(ref);
    expect(await later.firstOffset(ref)).toBeNull();
    await later.append(ref, barrier('c'));
    expect(await later.firstOffset(ref)).toBeGreaterThan(b ?? Infinity);
  });
});
