/**
 * The validated, frozen configuration. Mirrors `schemas/config.schema.json` (the schema is
 * the source of truth for defaults and bounds; `test/unit/config/load.test.ts` pins that the
 * two agree).
 */
import type { Limits } from '../core/limits.js';

/** pino levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The embedded, single-process backend (the default). */
export interface MemoryBackendConfig {
  readonly type: 'memory';
  /** Record retention in ms; unset = the backend's default. */
  readonly retentionMs?: number;
}

/** RabbitMQ (selected by `RABBITMQ_URL`). */
export interface RabbitMqBackendConfig {
  readonly type: 'rabbitmq';
  /** AMQP URL; may hold a password, so log it only through `redactUrl`. */
  readonly url: string;
  /** Topic exchange name; default `zaqar`. */
  readonly exchange: string;
  /** `x-initial-cluster-size` of new streams (replicas on a cluster); unset = the broker's default. */
  readonly streamClusterSize?: number;
}

/** Discriminated by `type`; `backends/create-backend.ts` switches on it exhaustively. */
export type BackendConfig = MemoryBackendConfig | RabbitMqBackendConfig;
export type BackendType = BackendConfig['type'];

/** A queue-name pattern (`*` = any run of characters) bound to a message schema name. */
export interface QueueSchemaBinding {
  readonly pattern: string;
  readonly schema: string;
}

/** How requests are authenticated (README "Behind Keystone"). */
export const AUTH_STRATEGIES = ['noauth', 'keystone', 'jwt'] as const;
export type AuthStrategy = (typeof AUTH_STRATEGIES)[number];

/** Authentication settings; the keystone and jwt fields apply only to their strategy. */
export interface AuthConfig {
  readonly strategy: AuthStrategy;
  /** Validation cache lifetime, seconds; default 300. */
  readonly cacheTtlSeconds: number;
  /** Deadline of one Keystone / JWKS request, ms; default 3000. */
  readonly timeoutMs: number;
  readonly keystoneUrl?: string;
  readonly keystoneUsername?: string;
  /** Secret: never logged. */
  readonly keystonePassword?: string;
  readonly keystoneProjectName?: string;
  readonly keystoneUserDomainName: string;
  readonly keystoneProjectDomainName: string;
  readonly jwtJwksUrl?: string;
  /** Least time between two JWKS fetches, ms; default 30000. */
  readonly jwtJwksCooldownMs: number;
  readonly jwtPublicKeyFile?: string;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  readonly jwtProjectClaim: string;
  readonly jwtRolesClaim: string;
  /** Secret: never logged. */
  readonly signedUrlKey?: string;
}

export interface Config {
  readonly server: {
    /** Bind address of both listeners; default 127.0.0.1. */
    readonly host: string;
    /** REST port; default 8888; 0 = any free port. */
    readonly restPort: number;
    /** WebSocket port; default 9000; 0 = any free port. */
    readonly wsPort: number;
    /** PEM files: when set, both listeners serve TLS (HTTPS, WSS). */
    readonly tls?: { readonly certFile: string; readonly keyFile: string };
    /** CORS for the REST API: `*` or comma-separated exact origins; unset = no CORS. */
    readonly corsOrigins?: string;
  };
  readonly backend: BackendConfig;
  readonly log: { readonly level: LogLevel };
  /** Zaqar's limits; every field defaulted to {@link DEFAULT_LIMITS}. */
  readonly limits: Limits;
  readonly validation: {
    /** Operator schema directory; unset = built-in schemas only. */
    readonly schemaDir?: string;
    /** First matching pattern wins. */
    readonly queueSchemas: readonly QueueSchemaBinding[];
  };
  readonly ws: {
    /** Ping interval, ms; default 30000. */
    readonly heartbeatIntervalMs: number;
    /** Largest inbound frame, bytes; unset = transport default. */
    readonly maxFrameBytes?: number;
    /** Outbound buffer ceiling per connection, bytes; unset = transport default. */
    readonly maxBufferedBytes?: number;
  };
  readonly webhooks: {
    /** CIDRs webhooks may reach despite the SSRF guard (comma-separated); unset = none. */
    readonly allowedCidrs?: string;
  };
  readonly ui: {
    /** Serve the live-tail page at /_ui/; default false. */
    readonly enabled: boolean;
    /** The WebSocket URL the page uses; unset = the page's host on the WS port. */
    readonly wsUrl?: string;
  };
  readonly shutdown: {
    /** Hard deadline of a graceful shutdown, ms; default 10000. */
    readonly timeoutMs: number;
  };
  readonly auth: AuthConfig;
}
