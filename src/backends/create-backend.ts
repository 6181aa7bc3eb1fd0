/**
 * The default backend factory: one driver per `config.backend.type`. The switch is
 * exhaustive, so adding a variant to `BackendConfig` without wiring it here fails to
 * compile. An unknown type never reaches this point: the config schema rejects it at boot.
 */
import type { Config } from '../config/types.js';
import type { Backend } from '../core/ports.js';
import { MemoryBackend } from './memory/index.js';
import { RabbitMqBackend } from './rabbitmq/index.js';

/** Seconds a stream keeps records beyond the longest message ttl (clock skew, slow readers). */
const RETENTION_MARGIN_SECONDS = 86_400;

/** Builds (does not start) the backend the configuration names. */
export function createBackend(config: Pick<Config, 'backend' | 'limits'>): Backend {
  const backend = config.backend;
  switch (backend.type) {
    case 'memory':
      return new MemoryBackend(backend.retentionMs === undefined ? {} : { retentionMs: backend.retentionMs });
    case 'rabbitmq':
      return new RabbitMqBackend({
        url: backend.url,
        exchange: backend.exchange,
        ...(backend.streamClusterSize === undefined ? {} : { streamClusterSize: backend.streamClusterSize }),
        // Streams must outlive the longest message a client may post.
        retentionSeconds: config.limits.maxMessageTtl + RETENTION_MARGIN_SECONDS,
      });
    default:
      return assertNever(backend);
  }
}

/** Compile-time exhaustiveness check; throws if reached at run time anyway. */
export function assertNever(value: never): never {
  throw new TypeError(`unhandled variant: ${JSON.stringify(value)}`);
}
