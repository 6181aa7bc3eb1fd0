/**
 * The default backend factory: one driver per `config.backend.type`. The switch is
 * exhaustive, so adding a variant to `BackendConfig` without wiring it here fails to
 * compile. An unknown type never reaches this point: the config schema rejects it at boot.
 */
import type { BackendConfig } from '../config/types.js';
import type { Backend } from '../core/ports.js';
import { MemoryBackend } from './memory/index.js';

/** Builds (does not start) the backend the configuration names. */
export function createBackend(config: BackendConfig): Backend {
  switch (config.type) {
    case 'memory':
      return new MemoryBackend(config.retentionMs === undefined ? {} : { retentionMs: config.retentionMs });
    case 'rabbitmq':
      // WIRING: replaced by `new RabbitMqBackend({ url, exchange })` once src/backends/rabbitmq/index.ts lands.
      throw new Error('the RabbitMQ backend is not available in this build');
    default:
      return assertNever(config);
  }
}

/** Compile-time exhaustiveness check; throws if reached at run time anyway. */
export function assertNever(value: never): never {
  throw new TypeError(`unhandled variant: ${JSON.stringify(value)}`);
}
