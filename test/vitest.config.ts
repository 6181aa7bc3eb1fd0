/**
 * One vitest config for every tier (unit, contract, integration), as two projects:
 *
 * - `main`: everything but `*.rabbitmq.test.ts`. Integration tests bind port 0, so files run
 *   in parallel.
 * - `rabbitmq`: the `*.rabbitmq.test.ts` files, with the RabbitMQ global setup (written by the
 *   RabbitMQ backend's owner; wired only when its file exists). It provides `amqpUrl` and fails
 *   loudly when no broker is reachable. Being per project, it runs only when a RabbitMQ test
 *   is selected, so `vitest run test/unit` needs no broker. Its files run one at a time.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const RABBITMQ_SETUP = 'test/global-setup.rabbitmq.ts';
const RABBITMQ_TESTS = 'test/**/*.rabbitmq.test.ts';
const hasRabbitMqSetup = existsSync(new URL(`../${RABBITMQ_SETUP}`, import.meta.url));

export default defineConfig({
  test: {
    root,
    globals: false,
    environment: 'node',
    // Per test and per hook (building the app, spawning python or a compiled main.js).
    testTimeout: 20_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    reporters: process.env['CI'] === undefined ? ['default'] : ['verbose'],
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['**/node_modules/**', RABBITMQ_TESTS] },
      },
      {
        extends: true,
        test: {
          name: 'rabbitmq',
          include: [RABBITMQ_TESTS],
          globalSetup: hasRabbitMqSetup ? [RABBITMQ_SETUP] : [],
          // One file at a time: the suites share one broker and two CPUs, and the two that stop
          // a broker start a private node each (test/fixtures/private-rabbitmq.ts).
          fileParallelism: false,
        },
      },
    ],
  },
});
