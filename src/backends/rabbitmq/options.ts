/**
 * Constructor options of the RabbitMQ backend, their defaults and checks.
 */
import type { IngressSettings, StreamSettings } from './topology.js';

/** Longest Zaqar message ttl (14 days) plus one day, in seconds. */
export const DEFAULT_RETENTION_SECONDS = 1_209_600 + 86_400;
/**
 * Catalogue retention: 7 days. Safe because every pod snapshots the catalogue (at the latest 6
 * hours after a change, and when it stops), so records older than the newest snapshot are no
 * longer needed; see docs/architecture.md.
 */
export const DEFAULT_CATALOG_RETENTION_SECONDS = 7 * 86_400;
/** Size bound of the catalogue's snapshot stream: many snapshots, and always the newest. */
export const DEFAULT_SNAPSHOT_RETENTION_BYTES = 256_000_000;
/** Small segments so age retention fires on small queues (it drops whole segments only). */
export const DEFAULT_SEGMENT_BYTES = 8_000_000;

/** Options of {@link RabbitMqBackend}. Only `url` is required. */
export interface RabbitMqBackendOptions {
  /** AMQP URL, e.g. `amqp://user:pass@host:5672/vhost`. */
  readonly url: string;
  /** Public topic exchange; also the prefix of every other name. Default `zaqar`. */
  readonly exchange?: string;
  /** `x-max-age` of queue streams, seconds. Default {@link DEFAULT_RETENTION_SECONDS}. Must exceed the longest message ttl. */
  readonly retentionSeconds?: number;
  /** `x-max-age` of the catalogue stream, seconds; null keeps it forever. Default {@link DEFAULT_CATALOG_RETENTION_SECONDS}. */
  readonly catalogRetentionSeconds?: number | null;
  /** `x-max-length-bytes` of the catalogue's snapshot stream. Default {@link DEFAULT_SNAPSHOT_RETENTION_BYTES}. */
  readonly snapshotRetentionBytes?: number;
  /** `x-stream-max-segment-size-bytes`. Default {@link DEFAULT_SEGMENT_BYTES}. */
  readonly segmentBytes?: number;
  /** `x-initial-cluster-size` of declared streams (replicas on a cluster). Default: the broker's. */
  readonly streamClusterSize?: number;
  /** Socket connect timeout per attempt, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Bound on one append (declare + publish + confirm), ms. Default 5000. */
  readonly confirmTimeoutMs?: number;
  /** AMQP heartbeat, seconds. Default 5. */
  readonly heartbeatSeconds?: number;
  /** Reconnect backoff bounds, ms. Defaults 100 and 10000. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Per-consumer prefetch of tails. Default 256. */
  readonly tailPrefetch?: number;
  /** Prefetch of the ingress consumer. Default 64. */
  readonly ingressPrefetch?: number;
  /** Ingress queue type. Default `quorum`. */
  readonly ingressQueueType?: 'quorum' | 'classic';
  /** Quorum ingress: deliveries before a message that keeps failing is dead-lettered. Default 20. */
  readonly ingressDeliveryLimit?: number;
  /** How long `firstOffset` waits for a record of a stream that looks empty, ms. Default 300. */
  readonly emptyProbeMs?: number;
  /** Wait after declaring a stream that reports no messages, before writing to it, ms. Default 150. */
  readonly streamSettleMs?: number;
}

/** Options with defaults applied and checked. */
export interface Settings {
  readonly connectTimeoutMs: number;
  readonly confirmTimeoutMs: number;
  readonly heartbeatSeconds: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly tailPrefetch: number;
  readonly ingressPrefetch: number;
  readonly emptyProbeMs: number;
  readonly streamSettleMs: number;
  readonly streams: StreamSettings;
  readonly ingress: IngressSettings;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new TypeError(`${name} must be a positive integer (got ${String(v)})`);
  return v;
}

/** Applies defaults; throws `TypeError` for a value out of range (config is validated before, this is the last guard). */
export function settingsOf(o: RabbitMqBackendOptions): Settings {
  const catalog = o.catalogRetentionSeconds === undefined ? DEFAULT_CATALOG_RETENTION_SECONDS : o.catalogRetentionSeconds;
  return {
    connectTimeoutMs: positiveInt('connectTimeoutMs', o.connectTimeoutMs, 5000),
    confirmTimeoutMs: positiveInt('confirmTimeoutMs', o.confirmTimeoutMs, 5000),
    heartbeatSeconds: positiveInt('heartbeatSeconds', o.heartbeatSeconds, 5),
    reconnectMinMs: positiveInt('reconnectMinMs', o.reconnectMinMs, 100),
    reconnectMaxMs: positiveInt('reconnectMaxMs', o.reconnectMaxMs, 10_000),
    tailPrefetch: positiveInt('tailPrefetch', o.tailPrefetch, 256),
    ingressPrefetch: positiveInt('ingressPrefetch', o.ingressPrefetch, 64),
    emptyProbeMs: positiveInt('emptyProbeMs', o.emptyProbeMs, 300),
    streamSettleMs: positiveInt('streamSettleMs', o.streamSettleMs, 150),
    streams: {
      retentionSeconds: positiveInt('retentionSeconds', o.retentionSeconds, DEFAULT_RETENTION_SECONDS),
      catalogRetentionSeconds: catalog === null ? null : positiveInt('catalogRetentionSeconds', catalog, 1),
      snapshotRetentionBytes: positiveInt('snapshotRetentionBytes', o.snapshotRetentionBytes, DEFAULT_SNAPSHOT_RETENTION_BYTES),
      segmentBytes: positiveInt('segmentBytes', o.segmentBytes, DEFAULT_SEGMENT_BYTES),
      clusterSize: o.streamClusterSize === undefined ? null : positiveInt('streamClusterSize', o.streamClusterSize, 1),
    },
    ingress: {
      queueType: o.ingressQueueType ?? 'quorum',
      deliveryLimit: positiveInt('ingressDeliveryLimit', o.ingressDeliveryLimit, 20),
    },
  };
}
