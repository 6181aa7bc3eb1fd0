/**
 * A backend outage seen from the logs and the REST answers: one error line when it starts, one
 * info line when it ends, 503s with `Retry-After` logged as one rate-limited warn line without a
 * stack. The backend is the memory one behind a switch that makes every write fail as RabbitMQ's
 * adapter does when the broker is away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { MemoryBackend } from '../../src/backends/index.js';
import { parseConfig } from '../../src/config/index.js';
import { errors } from '../../src/core/errors.js';
import type { LogEvent } from '../../src/core/events.js';
import type { BackendStatus, LogRef } from '../../src/core/ports.js';
import { createLogger } from '../../src/observability/index.js';
import { DelegatingBackend } from '../fixtures/delegating-backend.js';

interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly [key: string]: unknown;
}

class SwitchedBackend extends DelegatingBackend {
  #down = false;
  readonly #listeners = new Set<(s: BackendStatus) => void>();

  set(down: boolean): void {
    this.#down = down;
    const status: BackendStatus = down ? { type: 'down', cause: new Error('connection refused') } : { type: 'up' };
    // A real adapter reports "down" again at every failed reconnect attempt.
    for (const l of this.#listeners) l(status);
    if (down) for (const l of this.#listeners) l(status);
  }

  override status(): BackendStatus {
    return this.#down ? { type: 'down' } : { type: 'up' };
  }

  override onStatus(listener: (status: BackendStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  override append(log: LogRef, event: LogEvent): Promise<void> {
    if (this.#down) return Promise.reject(errors.brokerUnavailable('write'));
    return super.append(log, event);
  }
}

const lines: LogLine[] = [];
const backend = new SwitchedBackend(new MemoryBackend(), 'switched');
let app: App;
let base: string;
const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'p', 'Content-Type': 'application/json' };

beforeAll(async () => {
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) } });
  app = buildApp(parseConfig({ server: { restPort: 0, wsPort: 0 } }), { logger, backend, defaultMetrics: false });
  base = `http://127.0.0.1:${(await app.start()).restPort}`;
});
afterAll(() => app.close());

describe('a backend outage', () => {
  it('logs one error line, one warn line for many 503s (no stack), Retry-After on each, then one info line', async () => {
    expect((await fetch(`${base}/v2/queues/q1`, { method: 'PUT', headers })).status).toBe(201);
    const before = lines.length;
    backend.set(true);
    const answers = [];
    for (let i = 0; i < 5; i += 1) {
      answers.push(await fetch(`${base}/v2/queues/q1/messages`, { method: 'POST', headers, body: JSON.stringify({ messages: [{ body: i }] }) }));
    }
    expect(answers.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
    expect(answers.map((r) => r.headers.get('retry-after'))).toEqual(['5', '5', '5', '5', '5']);
    backend.set(false);
    expect((await fetch(`${base}/v2/queues/q1/messages`, { method: 'POST', headers, body: JSON.stringify({ messages: [{ body: 'ok' }] }) })).status).toBe(201);

    const during = lines.slice(before);
    expect(during.filter((l) => l.level >= 50)).toEqual([expect.objectContaining({ event: 'backend_down', level: 50 })]);
    const warns = during.filter((l) => l.level === 40);
    expect(warns).toEqual([expect.objectContaining({ event: 'request_unavailable', code: 'ZQR_ERR_BROKER_UNAVAILABLE' })]);
    expect(warns[0]).not.toHaveProperty('err');
    // fastify's per-request logger (made on first use, request-logger.ts) keeps the request id.
    expect(warns[0]?.['reqId']).toEqual(expect.any(String));
    expect(during.filter((l) => l.event === 'backend_up')).toHaveLength(1);
  });
});
