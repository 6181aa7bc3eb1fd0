/**
 * The service's metrics on prom-client, one {@link Registry} per application (several apps run
 * in one test process), rendered in the Prometheus text format on `GET /metrics` (and the
 * older `GET /_metrics`). Callers name metrics by their full name: `inc(name, labels, n)`,
 * `set`, `observe`; a metric must be declared first (an undeclared one is a bug).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** The Prometheus convention; `/_metrics` is kept for existing scrape configs. */
export const METRICS_PATH = '/metrics';
export const LEGACY_METRICS_PATH = '/_metrics';

type Metric = { readonly kind: 'counter'; readonly m: Counter } | { readonly kind: 'gauge'; readonly m: Gauge } | { readonly kind: 'histogram'; readonly m: Histogram };

interface Declared {
  readonly help: string;
  readonly kind: Metric['kind'];
  readonly buckets?: readonly number[];
  /** Created on first use when no label names were declared (they are then those of that use). */
  metric?: Metric;
}

/** See {@link Metrics.series}. */
export interface Series {
  inc(by?: number): void;
  observe(value: number): void;
}

export interface MetricsOptions {
  /** Node/process default metrics (`process_*`, `nodejs_*`) in this registry; default true. */
  readonly defaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #declared = new Map<string, Declared>();
  /** Counter and gauge values, readable synchronously (prom-client's `get()` is async). */
  readonly #values = new Map<string, number>();

  constructor(opts: MetricsOptions = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Declares a counter (idempotent). Names follow Prometheus conventions (`*_total`). */
  counter(name: string, help: string, labelNames?: readonly string[]): void {
    this.#declare(name, { help, kind: 'counter' }, labelNames);
  }

  /** Declares a gauge; `collect` (if given) sets it at each scrape. */
  gauge(name: string, help: string, labelNames?: readonly string[], collect?: (set: (labels: Labels, v: number) => void) => void): void {
    this.#declare(name, { help, kind: 'gauge' }, labelNames, collect);
  }

  /** Declares a histogram (seconds by convention). */
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): void {
    this.#declare(name, { help, kind: 'histogram', ...(buckets === undefined ? {} : { buckets }) }, labelNames);
  }

  /** Adds `by` (default 1) to the counter (or gauge) for these labels. */
  inc(name: string, labels: Labels = {}, by = 1): void {
    const metric = this.#metric(name, labels);
    if (metric.kind === 'histogram') throw new Error(`metric ${name} is a histogram`);
    metric.m.inc(labels, by);
    const key = valueKey(name, labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** Sets a gauge. */
  set(name: string, labels: Labels, value: number): void {
    const metric = this.#metric(name, labels);
    if (metric.kind !== 'gauge') throw new Error(`metric ${name} is not a gauge`);
    metric.m.set(labels, value);
    this.#values.set(valueKey(name, labels), value);
  }

  /** Records one observation in a histogram. */
  observe(name: string, labels: Labels, value: number): void {
    const metric = this.#metric(name, labels);
    if (metric.kind !== 'histogram') throw new Error(`metric ${name} is not a histogram`);
    metric.m.observe(labels, value);
  }

  /**
   * One label set of a counter or histogram, resolved once for a hot path: `inc` and `observe`
   * then skip hashing the labels (prom-client's `labels()` child) and building the value key.
   */
  series(name: string, labels: Labels): Series {
    const metric = this.#metric(name, labels);
    const values = this.#values;
    const key = valueKey(name, labels);
    switch (metric.kind) {
      case 'histogram': {
        const child = metric.m.labels(labels);
        return {
          inc: () => {
            throw new Error(`metric ${name} is a histogram`);
          },
          observe: (v) => child.observe(v),
        };
      }
      case 'counter':
      case 'gauge': {
        const child = metric.m.labels(labels);
        return {
          inc: (by = 1) => {
            child.inc(by);
            values.set(key, (values.get(key) ?? 0) + by);
          },
          observe: () => {
            throw new Error(`metric ${name} is not a histogram`);
          },
        };
      }
    }
  }

  /** The current value of a counter or set gauge (0 when never touched). */
  value(name: string, labels: Labels = {}): number {
    return this.#values.get(valueKey(name, labels)) ?? 0;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #declare(name: string, d: Declared, labelNames: readonly string[] | undefined, collect?: (set: (labels: Labels, v: number) => void) => void): void {
    if (this.#declared.has(name)) return;
    this.#declared.set(name, d);
    if (labelNames !== undefined) d.metric = this.#create(name, d, labelNames, collect);
  }

  #metric(name: string, labels: Labels): Metric {
    const d = this.#declared.get(name);
    if (d === undefined) throw new Error(`metric ${name} is not declared`);
    d.metric ??= this.#create(name, d, Object.keys(labels));
    return d.metric;
  }

  #create(name: string, d: Declared, labelNames: readonly string[], collect?: (set: (labels: Labels, v: number) => void) => void): Metric {
    const base = { name, help: d.help, labelNames: [...labelNames], registers: [this.registry] };
    switch (d.kind) {
      case 'counter':
        return { kind: 'counter', m: new Counter(base) };
      case 'histogram':
        return { kind: 'histogram', m: new Histogram({ ...base, ...(d.buckets === undefined ? {} : { buckets: [...d.buckets] }) }) };
      case 'gauge': {
        if (collect === undefined) return { kind: 'gauge', m: new Gauge(base) };
        const values = this.#values;
        return {
          kind: 'gauge',
          m: new Gauge({
            ...base,
            collect(this: Gauge) {
              collect((labels, v) => {
                this.set(labels, v);
                values.set(valueKey(name, labels), v);
              });
            },
          }),
        };
      }
    }
  }
}

/**
 * The key of a (metric, label set) in the synchronous value map. Counters are bumped on hot
 * paths (every request), nearly always with no label or one: those keys are built without
 * sorting or serializing; a name never contains `{` or `"` (Prometheus names), so they cannot
 * collide with the JSON form used for several labels.
 */
function valueKey(name: string, labels: Labels): string {
  const keys = Object.keys(labels);
  const [only] = keys;
  if (only === undefined) return name;
  if (keys.length === 1) return `${name}{${only}=${JSON.stringify(labels[only])}}`;
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

// ── The metrics of this service ──────────────────────────────────────────────────────

/** Messages published straight to the broker that were not stored, by `outcome`. */
export const FOREIGN_REJECTED = 'zaqar_bridge_foreign_messages_rejected_total';
/** Webhook deliveries (one message to one subscriber) by `outcome`: delivered, failed, dropped. */
export const WEBHOOK_DELIVERIES = 'zaqar_bridge_webhook_deliveries_total';
/** What the core did on its own, by event (catalogue snapshots written, failed, restored; a missing catalogue head). */
export const CORE_EVENTS = 'zaqar_bridge_core_events_total';

export const HTTP_REQUESTS = 'zaqar_bridge_http_requests_total';
export const HTTP_DURATION = 'zaqar_bridge_http_request_duration_seconds';
export const WS_REQUESTS = 'zaqar_bridge_ws_requests_total';
export const WS_DURATION = 'zaqar_bridge_ws_request_duration_seconds';
export const WS_CONNECTIONS = 'zaqar_bridge_ws_connections';
export const WS_SUBSCRIPTIONS = 'zaqar_bridge_ws_subscriptions';
export const NOTIFICATIONS = 'zaqar_bridge_notifications_total';
export const SLOW_CLIENT_CUTOFFS = 'zaqar_bridge_ws_slow_client_cutoffs_total';
export const MESSAGES_POSTED = 'zaqar_bridge_messages_posted_total';
export const MESSAGES_CLAIMED = 'zaqar_bridge_messages_claimed_total';
export const CLAIMS = 'zaqar_bridge_claims_total';
export const DEAD_LETTERED = 'zaqar_bridge_messages_dead_lettered_total';
export const REPLAYS = 'zaqar_bridge_replays_total';
export const REPLAYED_MESSAGES = 'zaqar_bridge_replayed_messages_total';
export const BROKER_UP = 'zaqar_bridge_broker_up';
export const BROKER_RECONNECTS = 'zaqar_bridge_broker_reconnects_total';
export const PUBLISH_CONFIRM = 'zaqar_bridge_broker_publish_confirm_seconds';
export const QUEUES_HELD = 'zaqar_bridge_queues_held';

/** Request latency buckets (seconds): sub-millisecond memory answers to multi-second broker waits. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const m = new Metrics(opts);
  m.counter(FOREIGN_REJECTED, 'Messages published straight to the broker that were not stored, by outcome (dead_lettered, dropped, not_json, unroutable: the routing key is not <project>.<queue>).', ['outcome']);
  for (const outcome of ['dead_lettered', 'dropped', 'not_json', 'unroutable']) m.inc(FOREIGN_REJECTED, { outcome }, 0);
  m.counter(CORE_EVENTS, 'What the core did on its own, by event: catalog_snapshot_written, catalog_snapshot_failed, catalog_restored, catalog_snapshot_invalid, catalog_head_missing (alert on the last two and on failures).', ['event']);
  for (const event of ['catalog_snapshot_written', 'catalog_snapshot_failed', 'catalog_head_missing']) m.inc(CORE_EVENTS, { event }, 0);
  m.counter(WEBHOOK_DELIVERIES, 'Webhook deliveries (one message to one subscriber) by outcome (delivered, failed after the retry policy, dropped when too many are in flight or at shutdown).', ['outcome']);
  for (const outcome of ['delivered', 'failed', 'dropped']) m.inc(WEBHOOK_DELIVERIES, { outcome }, 0);

  m.counter(HTTP_REQUESTS, 'REST requests answered, by route pattern, method and status.', ['route', 'method', 'status']);
  m.histogram(HTTP_DURATION, 'REST request latency in seconds, by route pattern, method and status.', ['route', 'method', 'status'], LATENCY_BUCKETS);
  m.counter(WS_REQUESTS, 'WebSocket requests answered, by action and status.', ['action', 'status']);
  m.histogram(WS_DURATION, 'WebSocket request latency in seconds (handling, not queueing), by action and status.', ['action', 'status'], LATENCY_BUCKETS);
  m.counter(NOTIFICATIONS, 'Notifications to WebSocket subscribers, by outcome (delivered: sent; dropped: the connection was closing or cut off).', ['outcome']);
  for (const outcome of ['delivered', 'dropped']) m.inc(NOTIFICATIONS, { outcome }, 0);
  m.counter(SLOW_CLIENT_CUTOFFS, 'WebSocket connections closed with 1008 because their send buffer exceeded WS_MAX_BUFFERED_BYTES.', []);
  m.inc(SLOW_CLIENT_CUTOFFS, {}, 0);
  m.counter(MESSAGES_POSTED, 'Messages stored, by path (rest, ws, ingress: published straight to the broker).', ['path']);
  for (const path of ['rest', 'ws', 'ingress']) m.inc(MESSAGES_POSTED, { path }, 0);
  m.counter(CLAIMS, 'Claims created, by transport (rest, ws).', ['transport']);
  m.counter(MESSAGES_CLAIMED, 'Messages handed out by claims, by transport (rest, ws).', ['transport']);
  m.counter(DEAD_LETTERED, 'Messages moved to a dead-letter queue after _max_claim_count claims.', []);
  m.inc(DEAD_LETTERED, {}, 0);
  m.counter(REPLAYS, 'WebSocket reattach replays, by result (complete; gap: the history no longer reached back, answered with a gap).', ['result']);
  for (const result of ['complete', 'gap']) m.inc(REPLAYS, { result }, 0);
  m.counter(REPLAYED_MESSAGES, 'Messages re-sent by reattach replays.', []);
  m.counter(BROKER_RECONNECTS, 'Times the backend went down and came back (RabbitMQ reconnects).', []);
  m.inc(BROKER_RECONNECTS, {}, 0);
  m.histogram(PUBLISH_CONFIRM, 'Time from publishing a record to RabbitMQ until its publisher confirm, in seconds.', [], LATENCY_BUCKETS);
  return m;
}
