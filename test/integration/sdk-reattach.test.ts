/**
 * The SDK reattaching through random cuts, memory backend (one bridge): 3,000 messages, zero
 * gaps, zero duplicates, in order.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { expectExactlyOnceInOrder, runReattach, type Bridge } from './sdk-reattach.suite.js';

let app: App;
let bridge: Bridge;

beforeAll(async () => {
  app = buildApp(parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' } }), {
    logger: createLogger({ level: 'silent' }),
    defaultMetrics: false,
  });
  bridge = await app.start();
});
afterAll(() => app.close());

describe('the SDK through a link cut at random moments (memory backend)', { timeout: 120_000 }, () => {
  it('delivers every message once, in order', async () => {
    const messages = 3000;
    const result = await runReattach({ bridges: [bridge], project: "sdk", queue: "cuts", messages, batch: 10 });
    expectExactlyOnceInOrder(result, messages);
  });
});
