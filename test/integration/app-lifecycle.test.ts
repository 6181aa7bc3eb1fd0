/**
 * The composition root end to end: start on port 0, probes, the README's 30-second example
 * (post over REST, receive on a WebSocket), and the ordered, idempotent close.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type App, type AppOverrides } from '../../src/app.js';
import { MemoryBackend } from '../../src/backends/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { DelegatingBackend } from '../fixtures/delegating-backend.js';

interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) } });
  return { logger, lines };
}

const opened: App[] = [];

function makeApp(overrides: AppOverrides = {}, server: Record<string, unknown> = {}): App {
  const config = parseConfig({ server: { restPort: 0, wsPort: 0, ...server }, log: { level: 'silent' } });
  const app = buildApp(config, { logger: createLogger({ level: 'silent' }), ...overrides });
  opened.push(app);
  return app;
}

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((a) => a.close()));
});

function openWs(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextFrame(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Record<string, unknown>)));
}

describe('buildApp', () => {
  it('starts on free ports and logs which ones', async () => {
    const { logger, lines } = captureLogger();
    const app = makeApp({ logger });
    const ports = await app.start();
    expect(ports.restPort).toBeGreaterThan(0);
    expect(ports.wsPort).toBeGreaterThan(0);
    expect(ports.restPort).not.toBe(ports.wsPort);
    const listening = lines.find((l) => l.event === 'listening');
    expect(listening).toMatchObject({ host: '127.0.0.1', restPort: ports.restPort, wsPort: ports.wsPort });
    expect(listening?.msg).toContain(`http://127.0.0.1:${ports.restPort}`);
    expect(await app.start()).toEqual(ports);
  });

  it('logs and counts what the core does on its own (catalogue snapshots, restores)', async () => {
    const backend = new MemoryBackend();
    const first = captureLogger();
    const a = makeApp({ logger: first.logger, backend: new DelegatingBackend(backend) }); // closing the app leaves `backend` open
    const { restPort } = await a.start();
    const put = await fetch(`http://127.0.0.1:${restPort}/v2/queues/snap`, { method: 'PUT', headers: { 'X-Project-ID': 'p', 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c' } });
    expect(put.status).toBe(201);
    const offset = await a.service.snapshotCatalog();
    expect(first.lines.find((l) => l.event === 'catalog_snapshot_written')).toMatchObject({ level: 30, offset });
    const metrics = await (await fetch(`http://127.0.0.1:${restPort}/_metrics`)).text();
    expect(metrics).toContain('zaqar_bridge_core_events_total{event="catalog_snapshot_written"} 1\n');
    await a.close();
    // A second "pod" on the same backend starts from that snapshot.
    const second = captureLogger();
    const b = makeApp({ logger: second.logger, backend: new DelegatingBackend(backend) });
    await b.start();
    expect(second.lines.find((l) => l.event === 'catalog_restored')).toMatchObject({ queues: 1 });
    expect(b.metrics.value('zaqar_bridge_core_events_total', { event: 'catalog_restored' })).toBe(1);
  });

  it('is not ready before start, ready after, and live throughout', async () => {
    const app = makeApp();
    const before = await app.http.inject({ method: 'GET', url: '/_health/ready' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toMatchObject({ ready: false, phase: 'starting' });
    const { restPort } = await app.start();
    const ready = await fetch(`http://127.0.0.1:${restPort}/_health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ live: true, ready: true, phase: 'running', backend: { name: 'memory', up: true } });
    expect((await fetch(`http://127.0.0.1:${restPort}/_health/live`)).status).toBe(200);
  });

  it('delivers a message posted over REST to a WebSocket subscriber (README example)', async () => {
    const app = makeApp();
    const { restPort, wsPort } = await app.start();
    const ws = await openWs(wsPort);
    const headers = { 'Client-ID': '8a8b39e4-3b73-4d4f-9a0b-8cb1d3f5f0a1', 'X-Project-ID': 'demo' };
    ws.send(JSON.stringify({ action: 'subscription_create', headers, body: { queue_name: 'demo', ttl: 3600 } }));
    expect(await nextFrame(ws)).toMatchObject({ headers: { status: 201 } });

    const notification = nextFrame(ws);
    const posted = await fetch(`http://127.0.0.1:${restPort}/v2/queues/demo/messages`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ body: { event: 'hello' }, ttl: 300 }] }),
    });
    expect(posted.status).toBe(201);
    expect(await notification).toEqual({ ttl: 300, body: { event: 'hello' }, Message_Type: 'Notification', queue_name: 'demo' });
    ws.close();
  });

  it('closes in order: WebSocket clients get 1001, then REST, service and backend close', async () => {
    const backend = new MemoryBackend();
    const app = makeApp({ backend });
    const { restPort, wsPort } = await app.start();
    const ws = await openWs(wsPort);
    const closeCode = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));

    const first = app.close();
    expect(app.close()).toBe(first);
    await first;
    expect(await closeCode).toBe(1001);
    await expect(fetch(`http://127.0.0.1:${restPort}/_health/live`)).rejects.toThrow();
    await expect(backend.append({ kind: 'catalog' }, { type: 'noop' } as never)).rejects.toThrow(/closed/);
  });

  it('runs every close step even when one fails, then rejects with all failures', async () => {
    const { logger, lines } = captureLogger();
    const backend = new MemoryBackend();
    const app = makeApp({ backend, logger });
    app.http.addHook('onClose', async () => {
      throw new Error('boom');
    });
    await app.start();
    await expect(app.close()).rejects.toBeInstanceOf(AggregateError);
    expect(lines.find((l) => l.event === 'shutdown_step_failed')).toMatchObject({ step: 'close REST server' });
    await expect(backend.append({ kind: 'catalog' }, { type: 'noop' } as never)).rejects.toThrow(/closed/);
    expect(lines.at(-1)?.event).toBe('closed');
  });

  it('fails to start on a busy port and closes what it opened', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const backend = new MemoryBackend();
      const app = makeApp({ backend }, { restPort: busy });
      await expect(app.start()).rejects.toThrow(/EADDRINUSE/);
      await expect(backend.append({ kind: 'catalog' }, { type: 'noop' } as never)).rejects.toThrow(/closed/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('supports await using', async () => {
    const backend = new MemoryBackend();
    {
      await using app = makeApp({ backend });
      await app.start();
    }
    await expect(backend.append({ kind: 'catalog' }, { type: 'noop' } as never)).rejects.toThrow(/closed/);
  });
});
