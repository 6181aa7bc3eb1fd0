/**
 * The bridge as a benchmark target: configured from the environment exactly like `main.ts`
 * (memory backend by default, RabbitMQ with RABBITMQ_URL), logs silenced, ports on stdout.
 */
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';

const config = loadConfig({ env: { ...process.env, PORT: process.env['PORT'] ?? '0', WS_PORT: process.env['WS_PORT'] ?? '0', LOG_LEVEL: 'silent' } });
const app = buildApp(config);
const ports = await app.start();
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
process.on('SIGTERM', () => {
  void app.close().finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ ready: true, ...ports })}\n`);
