/**
 * The bridge as a benchmark target: configured from the environment exactly like `main.ts`
 * (memory backend by default, RabbitMQ with RABBITMQ_URL), logs silenced, ports on stdout.
 *
 * The backend is wrapped to count what the bridge reads from it (tails opened, records
 * delivered); SIGUSR1 prints the counts as a JSON line, so a benchmark can tell how many
 * broker reads a scenario cost.
 */
import { buildApp } from '../../src/app.js';
import { createBackend } from '../../src/backends/index.js';
import { loadConfig } from '../../src/config/index.js';
import type { Backend } from '../../src/core/ports.js';
import { StageRecorder } from '../lib/stages.js';

const config = loadConfig({
  env: { ...process.env, PORT: process.env['PORT'] ?? '0', WS_PORT: process.env['WS_PORT'] ?? '0', LOG_LEVEL: 'silent' },
});
const counts = { tails: 0, records: 0, firstOffset: 0 };
const backend: Backend = createBackend(config);
const tail = backend.tail.bind(backend);
backend.tail = (log, start, handler) => {
  counts.tails++;
  return tail(log, start, {
    onRecord: (r) => {
      counts.records++;
      handler.onRecord(r);
    },
  });
};
const firstOffset = backend.firstOffset.bind(backend);
backend.firstOffset = (log) => {
  counts.firstOffset++;
  return firstOffset(log);
};
const stages = process.env['BENCH_STAGES'] === '1' ? new StageRecorder() : undefined;
stages?.wrap(backend);
const app = buildApp(config, { backend });
stages?.hook(app.http);
const ports = await app.start();
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
process.on('SIGUSR1', () => process.stdout.write(`${JSON.stringify({ counts, stages: stages?.take() })}\n`));
process.on('SIGTERM', () => {
  void app.close().finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ ready: true, ...ports })}\n`);
