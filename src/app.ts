/**
 * The composition root: builds every adapter from the frozen {@link Config} and wires them
 * together. Importing this module does nothing; `buildApp` builds objects but opens
 * nothing; `start()` does the I/O (schemas, backend, listeners); `close()` undoes it in
 * order.
 */
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createBackend, RabbitMqBackend, type ForeignDelivery } from './backends/index.js';
import { ConfigError, type Config } from './config/index.js';
import { createZaqarService, type ZaqarEngine } from './core/engine.js';
import type { Backend, Clock, IdSource, MessageValidator, SchemaCatalog } from './core/ports.js';
import type { Json, ZaqarService } from './core/types.js';
import {
  createLogger,
  createMetrics,
  BROKER_RECONNECTS,
  BROKER_UP,
  CLAIMS,
  CORE_EVENTS,
  DEAD_LETTERED,
  FOREIGN_REJECTED,
  HTTP_DURATION,
  HTTP_REQUESTS,
  MESSAGES_CLAIMED,
  MESSAGES_POSTED,
  NOTIFICATIONS,
  PUBLISH_CONFIRM,
  QUEUES_HELD,
  REPLAYED_MESSAGES,
  REPLAYS,
  SLOW_CLIENT_CUTOFFS,
  WS_CONNECTIONS,
  WS_DURATION,
  WS_REQUESTS,
  WS_SUBSCRIPTIONS,
  HealthState,
  LogEvents,
  registerHealthRoutes,
  WEBHOOK_DELIVERIES,
  type BoundPorts,
  type Metrics,
  type Series,
} from './observability/index.js';
import { SubscriberGuard } from './notifications/subscriber-guard.js';
import { WebhookDispatcher } from './notifications/index.js';
import { createAuthenticator, type Authenticator } from './auth/index.js';
import { createHttpServer } from './transports/http/index.js';
import { parseCorsOrigins } from './transports/http/cors.js';
import { registerUiRoutes } from './transports/http/ui-routes.js';
import { createWsServer, type TlsMaterial, type WsTelemetry } from './transports/ws/index.js';
import { loadSchemaRegistry } from './validation/index.js';

/** Replaceable collaborators, for tests and embedding. Anything omitted is built from config. */
export interface AppOverrides {
  /** Used instead of `createBackend(config.backend)`. `close()` still closes it. */
  readonly backend?: Backend;
  /** Root logger; default `createLogger({ level: config.log.level })`. */
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  /**
   * Message validation and the schema catalogue. Default: loaded by `start()` from
   * `schemas/messages/` plus `config.validation` (operator directory and queue bindings).
   */
  readonly schemas?: MessageValidator & SchemaCatalog;
  /** Node/process default metrics in this app's registry; default true. */
  readonly defaultMetrics?: boolean;
  /**
   * Token verification used instead of the one `config.auth` selects (an embedder's own, or
   * the wire-compatibility test's stand-in for keystonemiddleware). The rules stay the
   * transports': the project and roles come from what it returns.
   */
  readonly authenticator?: Authenticator;
}

/** A built application. */
export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly backend: Backend;
  readonly service: ZaqarEngine;
  /**
   * The REST server (not listening until `start()`). `http.inject()` needs the schemas:
   * call it after `start()`, or pass `overrides.schemas`.
   */
  readonly http: FastifyInstance;
  readonly health: HealthState;
  /** Prometheus metrics served on `GET /metrics` (and `GET /_metrics`). */
  readonly metrics: Metrics;
  /** Open WebSocket connections. */
  wsConnectionCount(): number;
  /**
   * Resolves with the bound ports as soon as both listeners are up, which is before `start()`
   * resolves when the backend is slow to come up. Rejects if `start()` fails first.
   */
  listening(): Promise<BoundPorts>;
  /**
   * Loads schemas, starts the backend and the service, then listens (REST, then WebSocket)
   * on `config.server`. Resolves with the bound ports (useful with port 0). Memoized. On
   * failure everything already opened is closed and the promise rejects.
   */
  start(): Promise<BoundPorts>;
  /**
   * Idempotent, memoized shutdown: not ready → WebSocket server (stops accepting, closes
   * clients with 1001) → webhook dispatcher (pending retries cancelled, POSTs in flight get
   * a few seconds) → REST server (in-flight requests finish, new ones get 503) →
   * service → backend. Every step runs even if an earlier one fails; failures are logged
   * and the promise then rejects with an `AggregateError` of them.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Builds the application; performs no I/O. */
export function buildApp(config: Config, overrides: AppOverrides = {}): App {
  return new Application(config, overrides);
}

type CloseStep = readonly [name: string, run: () => unknown];

/** How long shutdown waits for foreign messages being stored to settle (ms). */
const INGRESS_DRAIN_MS = 3_000;
/** How long shutdown waits for webhook POSTs in flight before aborting them (ms). */
const WEBHOOK_DRAIN_MS = 3_000;

class Application implements App {
  readonly config: Config;
  readonly logger: Logger;
  readonly backend: Backend;
  readonly service: ZaqarEngine;
  readonly http: FastifyInstance;
  readonly health: HealthState;
  readonly metrics: Metrics;
  readonly #events: LogEvents;
  readonly #ws: ReturnType<typeof createWsServer>;
  readonly #webhooks: WebhookDispatcher;
  readonly #schemas: DeferredSchemas;
  readonly #schemasGiven: boolean;
  /** Listener removals, run first on close so shutdown is not reported as an outage. */
  readonly #unsubscribe: (() => void)[] = [];
  #starting: Promise<BoundPorts> | undefined;
  #resolveListening: (ports: BoundPorts) => void = () => undefined;
  #rejectListening: (err: unknown) => void = () => undefined;
  readonly #listening = new Promise<BoundPorts>((resolve, reject) => {
    this.#resolveListening = resolve;
    this.#rejectListening = reject;
  });
  #closing: Promise<void> | undefined;

  constructor(config: Config, overrides: AppOverrides) {
    this.config = config;
    this.metrics = createMetrics(overrides.defaultMetrics === false ? { defaultMetrics: false } : {});
    // Nobody may be waiting for `listening()`; a failed start is reported by start() itself.
    this.#listening.catch(() => undefined);
    this.logger = overrides.logger ?? createLogger({ level: config.log.level });
    this.#events = new LogEvents(this.logger);
    this.backend = overrides.backend ?? createBackend(config);
    this.health = new HealthState(this.backend.name);
    this.#schemas = new DeferredSchemas();
    this.#schemasGiven = overrides.schemas !== undefined;
    if (overrides.schemas !== undefined) this.#schemas.set(overrides.schemas);

    // `config.auth` is absent only in configs built by hand (tests): noauth.
    const auth = overrides.authenticator ?? (config.auth === undefined ? undefined : createAuthenticator(config.auth, this.logger));
    const trusts = auth?.trusts;
    // Configs built by hand (tests) may lack the section: the guard then allows nothing internal.
    const guard = new SubscriberGuard(config.webhooks?.allowedCidrs);
    this.#webhooks = new WebhookDispatcher({
      logger: this.logger,
      guard,
      onOutcome: (outcome, count) => this.metrics.inc(WEBHOOK_DELIVERIES, { outcome }, count),
      ...(trusts === undefined ? {} : { trustToken: (trustId: string) => trusts.token(trustId) }),
    });
    this.service = createZaqarService({
      backend: this.backend,
      posted: this.#webhooks,
      subscriberCheck: (uri) => guard.refusal(uri),
      limits: config.limits,
      validator: this.#schemas,
      diagnostics: (d) => {
        this.#events.coreDiagnostic(d);
        this.metrics.inc(CORE_EVENTS, { event: d.type });
      },
      deadLettered: (count) => this.metrics.inc(DEAD_LETTERED, {}, count),
      ...(overrides.clock === undefined ? {} : { clock: overrides.clock }),
      ...(overrides.ids === undefined ? {} : { ids: overrides.ids }),
    });
    const authDeps = auth === undefined ? {} : { auth };
    const signedUrlKey = config.auth?.signedUrlKey;
    const corsOrigins = parseCorsOrigins(config.server.corsOrigins);
    this.http = createHttpServer({
      service: countingService(this.service, this.metrics, 'rest'),
      limits: config.limits,
      logger: this.logger,
      schemas: this.#schemas,
      tls: config.server.tls !== undefined,
      ...(corsOrigins === null ? {} : { corsOrigins }),
      ...authDeps,
      ...(signedUrlKey === undefined ? {} : { signedUrlKey }),
    });
    // One pair of series per (route, method, status), resolved on its first request.
    const httpSeries = new Map<string, { readonly count: Series; readonly duration: Series }>();
    this.http.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const key = `${request.method} ${reply.statusCode} ${route}`;
      let series = httpSeries.get(key);
      if (series === undefined) {
        const labels = { route, method: request.method, status: String(reply.statusCode) };
        series = { count: this.metrics.series(HTTP_REQUESTS, labels), duration: this.metrics.series(HTTP_DURATION, labels) };
        httpSeries.set(key, series);
      }
      series.count.inc();
      series.duration.observe(reply.elapsedTime / 1000);
      done();
    });
    registerHealthRoutes(this.http, this.health, this.metrics);
    if (config.ui.enabled) {
      // src/app.ts and dist/app.js are both one level below the repository's root.
      registerUiRoutes(this.http, {
        pageDir: fileURLToPath(new URL('../ui/', import.meta.url)),
        sdkDir: fileURLToPath(new URL('../clients/js/dist/', import.meta.url)),
        wsUrl: config.ui.wsUrl ?? null,
        wsPort: () => this.#wsPort,
        logger: this.logger,
      });
    }
    this.#registerGauges();
    this.#ws = createWsServer({
      service: countingService(this.service, this.metrics, 'ws'),
      telemetry: this.#wsTelemetry(),
      tls: config.server.tls !== undefined,
      limits: config.limits,
      logger: this.logger,
      heartbeatIntervalMs: config.ws.heartbeatIntervalMs,
      ...authDeps,
      ...(signedUrlKey === undefined ? {} : { signedUrlKey }),
      ...(config.ws.maxFrameBytes === undefined ? {} : { maxFrameBytes: config.ws.maxFrameBytes }),
      ...(config.ws.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: config.ws.maxBufferedBytes }),
    });
  }

  #wsSubscriptions = 0;
  #backendWasDown = false;
  #wsPort = 0;

  #wsTelemetry(): WsTelemetry {
    const m = this.metrics;
    return {
      request: (action, status, seconds) => {
        const labels = { action, status: String(status) };
        m.inc(WS_REQUESTS, labels);
        m.observe(WS_DURATION, labels, seconds);
      },
      notification: (outcome, count) => m.inc(NOTIFICATIONS, { outcome }, count),
      slowClientCutOff: () => m.inc(SLOW_CLIENT_CUTOFFS),
      replay: (replayed, gap) => {
        m.inc(REPLAYS, { result: gap ? 'gap' : 'complete' });
        m.inc(REPLAYED_MESSAGES, {}, replayed);
      },
      subscriptions: (delta) => {
        this.#wsSubscriptions += delta;
      },
    };
  }

  /** Gauges read at each scrape. */
  #registerGauges(): void {
    const m = this.metrics;
    m.gauge(WS_CONNECTIONS, 'Open WebSocket connections.', [], (set) => set({}, this.#ws.connectionCount));
    m.gauge(WS_SUBSCRIPTIONS, 'Websocket subscriptions delivering to connections of this pod.', [], (set) => set({}, this.#wsSubscriptions));
    m.gauge(QUEUES_HELD, 'Queue logs this pod holds folded in memory.', [], (set) => set({}, this.service.openQueues));
    m.gauge(BROKER_UP, 'Whether the backend (RabbitMQ, or memory) is up: 1 up, 0 down.', ['backend'], (set) =>
      set({ backend: this.backend.name }, this.backend.status().type === 'up' ? 1 : 0),
    );
  }

  wsConnectionCount(): number {
    return this.#ws.connectionCount;
  }

  listening(): Promise<BoundPorts> {
    return this.#listening;
  }

  start(): Promise<BoundPorts> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Listens first, then starts the service: while the backend is unreachable at boot the
   * probes already answer (live 200, ready 503) and API requests get 503, instead of a process
   * that does not listen at all and is restarted by its orchestrator in a loop.
   */
  async #start(): Promise<BoundPorts> {
    try {
      if (this.#closing !== undefined) throw new Error('the application is closed');
      await this.#loadSchemas();
      this.#unsubscribe.push(
        this.backend.onStatus((status) => {
          if (status.type === 'down') this.#backendWasDown = true;
          else if (this.#backendWasDown) {
            this.#backendWasDown = false;
            this.metrics.inc(BROKER_RECONNECTS);
          }
          this.health.setBackendStatus(status);
          this.#events.backendStatus(this.backend.name, status);
        }),
      );
      const { host, restPort, wsPort, tls: tlsFiles } = this.config.server;
      let tls: TlsMaterial | undefined;
      if (tlsFiles !== undefined) {
        tls = { cert: await readFile(tlsFiles.certFile), key: await readFile(tlsFiles.keyFile) };
        (this.http.server as unknown as HttpsServer).setSecureContext({ key: tls.key, cert: tls.cert });
      }
      await this.http.listen({ port: restPort, host });
      const ports: BoundPorts = {
        restPort: (this.http.server.address() as AddressInfo).port,
        wsPort: await this.#ws.listen(wsPort, host, tls),
      };
      this.#wsPort = ports.wsPort;
      this.#events.listening(host, ports, tls !== undefined);
      this.#resolveListening(ports);
      await this.service.start();
      this.health.setBackendStatus(this.backend.status());
      this.#wireRabbitMq();
      this.health.markRunning();
      this.#events.ready(this.backend.name);
      return ports;
    } catch (err) {
      this.#rejectListening(err);
      this.#events.startFailed(err);
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  // ── VALIDATION WIRING ──────────────────────────────────────────────────────────
  // The schema registry (src/validation) loads asynchronously, so it is loaded here, in
  // start(), and handed to the service and the REST transport through DeferredSchemas
  // (both were built before it existed). Nothing calls it before start() resolves.
  async #loadSchemas(): Promise<void> {
    if (this.#schemasGiven) return;
    const { schemaDir, queueSchemas } = this.config.validation;
    let registry: Awaited<ReturnType<typeof loadSchemaRegistry>>;
    try {
      registry = await loadSchemaRegistry({
        queueSchemas,
        ...(schemaDir === undefined ? {} : { extraDir: schemaDir }),
      });
    } catch (err) {
      // A binding to a schema that does not exist, or a bad schema file: a configuration problem.
      const message = err instanceof Error ? err.message : String(err);
      const path = /unknown schema/.test(message) ? 'validation.queueSchemas' : 'validation.schemaDir';
      throw new ConfigError([{ path, source: path === 'validation.queueSchemas' ? 'env QUEUE_SCHEMAS' : 'env SCHEMA_DIR', message }]);
    }
    this.#schemas.set(registry);
    this.#events.schemasLoaded(registry.list().length, schemaDir);
  }

  /**
   * RabbitMQ extras beyond the port: its diagnostics go to the log, and messages workflows
   * publish straight to the exchange are stored through the core like posts.
   */
  #wireRabbitMq(): void {
    const backend = this.backend;
    if (!(backend instanceof RabbitMqBackend)) return;
    this.#unsubscribe.push(
      backend.onDiagnostic((d) => {
        this.#events.backendDiagnostic(d);
        if (d.type === 'ingress_dead_lettered') this.metrics.inc(FOREIGN_REJECTED, { outcome: 'unroutable' });
      }),
    );
    this.#unsubscribe.push(backend.onForeignMessage((d) => this.#ingest(d)));
    this.#unsubscribe.push(backend.onPublishConfirmed((seconds) => this.metrics.observe(PUBLISH_CONFIRM, {}, seconds)));
  }

  /**
   * Acks only once stored (or dead-lettered into a Zaqar queue); a message the core drops
   * goes to the ingress dead-letter queue rather than vanishing; a rejection of `ingest`
   * (backend unavailable) propagates, and the backend requeues the delivery.
   */
  async #ingest(delivery: ForeignDelivery): Promise<void> {
    let payload: Json;
    try {
      payload = JSON.parse(delivery.raw.toString('utf8')) as Json;
    } catch {
      this.#events.foreignMessageRejected(delivery.routingKey, 'not_json', 'the message is not UTF-8 JSON');
      this.metrics.inc(FOREIGN_REJECTED, { outcome: 'not_json' });
      delivery.reject(false);
      return;
    }
    const outcome = await this.service.ingest({
      project: delivery.project,
      queue: delivery.queue,
      payload,
      ...(delivery.messageId === null ? {} : { messageId: delivery.messageId }),
    });
    switch (outcome.type) {
      case 'stored':
        this.metrics.inc(MESSAGES_POSTED, { path: 'ingress' });
        delivery.ack();
        return;
      case 'dead_lettered':
        this.#events.foreignMessageRejected(delivery.routingKey, 'dead_lettered', outcome.reason);
        this.metrics.inc(FOREIGN_REJECTED, { outcome: 'dead_lettered' });
        delivery.ack();
        return;
      case 'dropped':
        this.#events.foreignMessageRejected(delivery.routingKey, 'dropped', outcome.reason);
        this.metrics.inc(FOREIGN_REJECTED, { outcome: 'dropped' });
        delivery.reject(false);
        return;
    }
  }

  async #close(): Promise<void> {
    const startedAt = Date.now();
    this.health.markClosing();
    const backend = this.backend;
    const steps: readonly CloseStep[] = [
      // First, while the service can still store them: foreign messages in flight are settled.
      ['drain RabbitMQ ingress', () => (backend instanceof RabbitMqBackend ? backend.drainIngress(INGRESS_DRAIN_MS) : undefined)],
      ['stop backend listeners', () => this.#unsubscribe.splice(0).forEach((off) => off())],
      ['close WebSocket server', () => this.#ws.close()],
      ['close webhook dispatcher', () => this.#webhooks.close(WEBHOOK_DRAIN_MS)],
      ['close REST server', () => this.http.close()],
      ['close service', () => this.service.close()],
      ['close backend', () => this.backend.close()],
    ];
    const failures: unknown[] = [];
    for (const [name, run] of steps) {
      try {
        await run();
      } catch (err) {
        failures.push(err);
        this.#events.shutdownStepFailed(name, err);
      }
    }
    this.#events.closed(Date.now() - startedAt);
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} shutdown step(s) failed`);
  }
}

/**
 * The service as a transport sees it, counting what it posts and claims (messages posted per
 * path, claims per transport). Every other call goes straight to the engine.
 */
function countingService(service: ZaqarService, metrics: Metrics, path: 'rest' | 'ws'): ZaqarService {
  const postMessages: ZaqarService['postMessages'] = async (ctx, queue, messages) => {
    const ids = await service.postMessages(ctx, queue, messages);
    metrics.inc(MESSAGES_POSTED, { path }, ids.length);
    return ids;
  };
  const createClaim: ZaqarService['createClaim'] = async (ctx, queue, opts) => {
    const claim = await service.createClaim(ctx, queue, opts);
    metrics.inc(CLAIMS, { transport: path });
    metrics.inc(MESSAGES_CLAIMED, { transport: path }, claim.messages.length);
    return claim;
  };
  const overrides: Partial<Record<keyof ZaqarService, unknown>> = { postMessages, createClaim };
  return new Proxy(service, {
    get(target, prop) {
      const own = typeof prop === 'string' ? overrides[prop as keyof ZaqarService] : undefined;
      if (own !== undefined) return own;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Stands in for the schema registry until `start()` has loaded it. Fails closed: a call
 * before then is a programming error, never a silently unvalidated message.
 */
class DeferredSchemas implements MessageValidator, SchemaCatalog {
  #target: (MessageValidator & SchemaCatalog) | undefined;

  set(target: MessageValidator & SchemaCatalog): void {
    this.#target = target;
  }

  validate(queue: string, metadata: Readonly<Record<string, unknown>>, bodies: readonly unknown[]): string | null {
    return this.#get().validate(queue, metadata, bodies);
  }

  hasSchema(name: string): boolean {
    return this.#get().hasSchema(name);
  }

  list(): readonly { readonly name: string; readonly title: string }[] {
    return this.#get().list();
  }

  get(name: string): Readonly<Record<string, unknown>> | undefined {
    return this.#get().get(name);
  }

  #get(): MessageValidator & SchemaCatalog {
    if (this.#target === undefined) throw new Error('message schemas are not loaded yet: call App.start() first');
    return this.#target;
  }
}
