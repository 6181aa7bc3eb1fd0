/** Live coalescing on the embedded backend (the suite: coalesce.suite.ts). */
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { coalesceSuite, type CoalesceTarget } from './coalesce.suite.js';

let app: App;
let ports: CoalesceTarget;
beforeAll(async () => {
  app = buildApp(parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' } }), { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  ports = await app.start();
});
afterAll(() => app.close());

coalesceSuite('memory', () => ports);
