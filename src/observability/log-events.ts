/**
 * Every process-level log line, as named methods, with the level policy in one place.
 * Each line carries a stable `event` field so operators can alert on it.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { BackendStatus } from '../core/ports.js';
import { redactUrl } from './redact.js';

export interface BoundPorts {
  readonly restPort: number;
  readonly wsPort: number;
}

export class LogEvents {
  readonly #log: Logger;
  /** Last backend state logged: an outage is one error line when it starts, one info line when it ends. */
  #backendUp: boolean | undefined;

  constructor(logger: Logger) {
    this.#log = logger;
  }

  configLoaded(config: Config): void {
    const backend = config.backend.type === 'rabbitmq'
      ? { type: 'rabbitmq', url: redactUrl(config.backend.url), exchange: config.backend.exchange }
      : { type: config.backend.type };
    this.#log.info({ event: 'config_loaded', backend, server: config.server, logLevel: config.log.level }, 'configuration loaded');
  }

  schemasLoaded(count: number, schemaDir: string | undefined): void {
    this.#log.info({ event: 'schemas_loaded', count, schemaDir: schemaDir ?? null }, `${count} message schemas loaded`);
  }

  listening(host: string, ports: BoundPorts, tls = false): void {
    const s = tls ? 's' : '';
    this.#log.info(
      { event: 'listening', host, restPort: ports.restPort, wsPort: ports.wsPort, tls },
      `listening: REST on http${s}://${hostForUrl(host)}:${ports.restPort}, WebSocket on ws${s}://${hostForUrl(host)}:${ports.wsPort}`,
    );
  }

  /** The service has started on its backend and is ready (after `listening`). */
  ready(backend: string): void {
    this.#log.info({ event: 'ready', backend }, `ready on the ${backend} backend`);
  }

  backendStatus(name: string, status: BackendStatus): void {
    const up = status.type === 'up';
    if (this.#backendUp === up) return;
    this.#backendUp = up;
    if (up) this.#log.info({ event: 'backend_up', backend: name }, `backend ${name} up`);
    else this.#log.error({ event: 'backend_down', backend: name, err: status.cause }, `backend ${name} down`);
  }

  /** A backend diagnostic (reconnects, skipped records, …); `type` becomes the `event`. */
  backendDiagnostic(diagnostic: { readonly type: string }): void {
    const quiet = diagnostic.type === 'connection_unblocked' || diagnostic.type === 'tail_cancelled';
    this.#log[quiet ? 'info' : 'warn']({ ...diagnostic, event: `backend_${diagnostic.type}` }, `backend: ${diagnostic.type}`);
  }

  /**
   * What the core did on its own (catalogue snapshots and restores). A catalogue whose head is
   * missing is an error: queues or subscriptions may be lost (see docs/deploy.md).
   */
  coreDiagnostic(diagnostic: { readonly type: string }): void {
    const level = diagnostic.type === 'catalog_head_missing' ? 'error' : diagnostic.type.endsWith('_written') || diagnostic.type.endsWith('_restored') ? 'info' : 'warn';
    this.#log[level]({ ...diagnostic, event: diagnostic.type }, `core: ${diagnostic.type}`);
  }

  /** A message published straight to the exchange was not stored as-is. */
  foreignMessageRejected(routingKey: string, outcome: 'dead_lettered' | 'dropped' | 'not_json', reason: string): void {
    this.#log.warn({ event: 'foreign_message_rejected', routingKey, outcome, reason }, `foreign message ${outcome}: ${reason}`);
  }

  startFailed(err: unknown): void {
    // A configuration problem is the operator's to fix: its message, without a stack.
    if (err instanceof Error && (err as { code?: unknown }).code === 'ZQR_ERR_CONFIG_INVALID') {
      this.#log.fatal({ event: 'start_failed', code: 'ZQR_ERR_CONFIG_INVALID' }, `start failed: ${err.message}`);
      return;
    }
    this.#log.fatal({ event: 'start_failed', err }, 'start failed');
  }

  shutdownStarted(reason: string): void {
    this.#log.info({ event: 'shutdown_started', reason }, `shutting down (${reason})`);
  }

  shutdownStepFailed(step: string, err: unknown): void {
    this.#log.error({ event: 'shutdown_step_failed', step, err }, `shutdown step "${step}" failed`);
  }

  closed(durationMs: number): void {
    this.#log.info({ event: 'closed', durationMs }, 'closed');
  }

  shutdownDeadlineExceeded(timeoutMs: number): void {
    this.#log.error({ event: 'shutdown_deadline', timeoutMs }, `shutdown did not finish within ${timeoutMs} ms; exiting`);
  }

  secondSignal(signal: string): void {
    this.#log.warn({ event: 'second_signal', signal }, `${signal} received again; exiting now`);
  }

  fatal(err: unknown, origin: string): void {
    this.#log.fatal({ event: 'fatal', origin, err }, `fatal: ${origin}`);
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
