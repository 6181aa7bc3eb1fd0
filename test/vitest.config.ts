/**
 * One vitest config for every tier (unit, contract, integration). Integration tests bind
 * port 0, so files run in parallel. The RabbitMQ global setup (written by the RabbitMQ
 * backend's owner) is wired only when its file exists; it provides `amqpUrl` to
 * `*.rabbitmq.test.ts` files and fails loudly when no broker is reachable.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const RABBITMQ_SETUP = 'test/global-setup.rabbitmq.ts';

export default defineConfig({
  test: {
    root,
    globals: false,
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    globalSetup: existsSync(new URL(`../${RABBITMQ_SETUP}`, import.meta.url)) ? [RABBITMQ_SETUP] : [],
    reporters: process.env['CI'] === undefined ? ['default'] : ['verbose'],
  },
});
