/**
 * Vitest globalSetup: provides a RabbitMQ (`inject('amqpUrl')`) to the `*.rabbitmq.test.ts`
 * suites, and the command that inspects it (`inject('rabbitmqCtl')`: list_queues, list_connections;
 * no test stops it — those that stop a broker start their own, test/fixtures/private-rabbitmq.ts).
 *
 * 1. `RABBITMQ_URL` set (CI: `.ci/run` starts the Debian broker): use it. `rabbitmqctl` on
 *    the PATH controls it, or the command in `RABBITMQ_CTL` (space-separated).
 * 2. Otherwise, with a Docker engine: start `rabbitmq:3.10-management-alpine` through
 *    testcontainers (imported lazily: testcontainers is only needed on this path).
 * 3. Otherwise fail with the reason: a broker test must never skip silently.
 */
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** AMQP URL of the test broker. */
    amqpUrl: string;
    /** Command (argv) of `rabbitmqctl` for that broker, e.g. `['rabbitmqctl']`. */
    rabbitmqCtl: string[];
  }
}

/** RabbitMQ image for the testcontainers path; 3.10 is the floor we support. */
const IMAGE = 'rabbitmq:3.10-management-alpine';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const fromEnv = process.env['RABBITMQ_URL'];
  if (fromEnv !== undefined && fromEnv !== '') {
    project.provide('amqpUrl', fromEnv);
    project.provide('rabbitmqCtl', (process.env['RABBITMQ_CTL'] ?? 'rabbitmqctl').split(' ').filter(Boolean));
    return undefined;
  }
  let started: { getHost(): string; getMappedPort(p: number): number; getId(): string; stop(): Promise<unknown> };
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    started = await new GenericContainer(IMAGE)
      .withExposedPorts(5672)
      .withWaitStrategy(Wait.forLogMessage('Server startup complete'))
      .withStartupTimeout(120_000)
      .start();
  } catch (err) {
    throw new Error(
      'The RabbitMQ tests need a broker: set RABBITMQ_URL (e.g. amqp://guest:guest@127.0.0.1:5672 after ' +
        '`rabbitmq-server -detached && rabbitmqctl await_startup`), or run a Docker engine for testcontainers. ' +
        `Starting ${IMAGE} failed: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  project.provide('amqpUrl', `amqp://guest:guest@${started.getHost()}:${started.getMappedPort(5672)}`);
  project.provide('rabbitmqCtl', ['docker', 'exec', started.getId(), 'rabbitmqctl']);
  return async () => {
    await started.stop();
  };
}
