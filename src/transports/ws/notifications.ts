/**
 * Fan-out of notifications to websocket subscribers (reference §3.6). One `service.watch`
 * per (project, queue) however many connections subscribe; each notification is serialized
 * at most once per frame type and the same buffer is sent to every subscriber. Delivery to a
 * subscription stops once the service says it is gone (deleted or its ttl ran out).
 */
import type { Logger } from 'pino';
import type { Notification, ZaqarService } from '../../core/types.js';
import { encodeFrame } from './codec.js';
import { Coalescer } from './coalescer.js';
import type { Json } from '../../core/types.js';
import { notificationFrame, reattachNotificationFrame } from './frames.js';
import { WriteBatcher } from './write-batch.js';

/**
 * A whole server-to-client WebSocket frame (RFC 6455 §5.2): FIN, the text or binary opcode, no
 * mask, the payload's length, then the payload. A server's frames are never masked, so one
 * frame's bytes are the same for every socket.
 */
export function wsFrame(payload: Buffer, binary: boolean): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = 0x80 | (binary ? 0x2 : 0x1);
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** A notification with its two encodings (and their frames) computed lazily, once. */
export class EncodedNotification {
  #text: Buffer | null = null;
  #binary: Buffer | null = null;
  #textFrame: Buffer | null = null;
  #binaryFrame: Buffer | null = null;

  constructor(
    readonly notification: Notification,
    readonly shape: (n: Notification) => Json = notificationFrame,
  ) {}

  /** The frame data for a text (`false`) or MessagePack (`true`) subscriber. */
  data(binary: boolean): Buffer {
    if (binary) return (this.#binary ??= encodeFrame(this.shape(this.notification), true));
    return (this.#text ??= encodeFrame(this.shape(this.notification), false));
  }

  /** {@link data} framed as one WebSocket message (see {@link wsFrame}), shared by every socket. */
  frame(binary: boolean): Buffer {
    if (binary) return (this.#binaryFrame ??= wsFrame(this.data(true), true));
    return (this.#textFrame ??= wsFrame(this.data(false), false));
  }
}

/**
 * The reattach-shaped encodings, shared by every opted-in subscriber: the service hands the
 * same notification object to all its listeners, so each is serialized once per frame type.
 */
const reattachEncodings = new WeakMap<Notification, EncodedNotification>();

export function reattachEncoding(n: Notification): EncodedNotification {
  let e = reattachEncodings.get(n);
  if (e === undefined) {
    e = new EncodedNotification(n, reattachNotificationFrame);
    reattachEncodings.set(n, e);
  }
  return e;
}

/** Where a subscription's notifications go (a connection). */
export interface NotificationSink {
  /** False when the sink dropped it (a connection that is closing). */
  deliver(n: EncodedNotification): boolean;
}

/** What the hub reports for metrics (part of the WS server's telemetry). */
export interface FanOutTelemetry {
  /** `count` notifications delivered to (or dropped for) subscribers; reported once per fan-out. */
  notification(outcome: 'delivered' | 'dropped', count: number): void;
}

interface Subscriber {
  readonly sink: NotificationSink;
  readonly project: string;
  readonly queue: string;
  readonly id: string;
}

interface Watch {
  readonly key: string;
  readonly subscribers: Set<Subscriber>;
  /** Live coalescing (`_coalesce`), shared by the watch's subscribers. */
  readonly coalescer: Coalescer;
  /** Resolves once the service delivers; rejects if `watch` failed. */
  readonly ready: Promise<void>;
  unwatch: (() => void) | null;
}

export class NotificationHub {
  /** Coalesces each socket's notification frames of one turn (see write-batch.ts). */
  readonly writes = new WriteBatcher();
  readonly #watches = new Map<string, Watch>();
  readonly #service: ZaqarService;
  readonly #logger: Logger;
  readonly #telemetry: FanOutTelemetry | undefined;

  constructor(service: ZaqarService, logger: Logger, telemetry?: FanOutTelemetry) {
    this.#service = service;
    this.#logger = logger;
    this.#telemetry = telemetry;
  }

  /**
   * Starts delivering `queue`'s notifications for subscription `id` to `sink`. Resolves once
   * active; returns the function that stops it (idempotent).
   */
  async add(sink: NotificationSink, project: string, queue: string, id: string): Promise<() => void> {
    const key = `${project}\u0000${queue}`;
    const watch = this.#watches.get(key) ?? this.#startWatch(key, project, queue);
    const sub: Subscriber = { sink, project, queue, id };
    watch.subscribers.add(sub);
    try {
      await watch.ready;
    } catch (e: unknown) {
      watch.subscribers.delete(sub);
      throw e;
    }
    return () => this.#remove(key, watch, sub);
  }

  /** Stops every watch; idempotent. */
  close(): void {
    for (const [key, watch] of this.#watches) {
      watch.subscribers.clear();
      this.#stopWatch(key, watch);
    }
  }

  #startWatch(key: string, project: string, queue: string): Watch {
    const subscribers = new Set<Subscriber>();
    const watch: Watch = {
      key,
      subscribers,
      coalescer: new Coalescer(
        () => this.#service.coalescing(project, queue),
        (n) => this.#fanOut(watch, n),
      ),
      unwatch: null,
      ready: this.#service.watch(project, queue, (n) => watch.coalescer.push(n)).then(
        (unwatch) => {
          watch.unwatch = unwatch;
          if (subscribers.size === 0) this.#stopWatch(key, watch);
        },
        (e: unknown) => {
          if (this.#watches.get(key) === watch) this.#watches.delete(key);
          throw e;
        },
      ),
    };
    // The rejection is handled by every `add` awaiting it; this keeps it from being unhandled.
    watch.ready.catch(() => undefined);
    this.#watches.set(key, watch);
    return watch;
  }

  #remove(key: string, watch: Watch, sub: Subscriber): void {
    watch.subscribers.delete(sub);
    if (watch.subscribers.size === 0 && watch.unwatch !== null) this.#stopWatch(key, watch);
  }

  #stopWatch(key: string, watch: Watch): void {
    if (this.#watches.get(key) === watch) this.#watches.delete(key);
    watch.coalescer.close();
    const unwatch = watch.unwatch;
    watch.unwatch = null;
    if (unwatch === null) return;
    try {
      unwatch();
    } catch (e: unknown) {
      this.#logger.error({ err: e }, 'ws: unwatch failed');
    }
  }

  #fanOut(watch: Watch, n: Notification): void {
    const encoded = new EncodedNotification(n);
    // Per delivery only a map lookup and the write: liveness is read once for the fan-out, and
    // the metrics are counted here and reported once.
    const alive = this.#service.liveSubscriptions(n.project, n.queue);
    let delivered = 0;
    let dropped = 0;
    for (const sub of watch.subscribers) {
      // Project isolation is the key of the watch; checking again costs nothing.
      if (n.project !== sub.project || n.queue !== sub.queue) continue;
      if (!alive(sub.id)) {
        watch.subscribers.delete(sub);
        continue;
      }
      try {
        if (sub.sink.deliver(encoded)) delivered++;
        else dropped++;
      } catch (e: unknown) {
        this.#logger.error({ err: e, subscription: sub.id }, 'ws: notification delivery failed');
      }
    }
    if (delivered > 0) this.#telemetry?.notification('delivered', delivered);
    if (dropped > 0) this.#telemetry?.notification('dropped', dropped);
    // Not from inside the service's listener call: stop an idle watch right after it.
    if (watch.subscribers.size === 0) queueMicrotask(() => this.#stopIfIdle(watch));
  }

  #stopIfIdle(watch: Watch): void {
    if (watch.subscribers.size !== 0 || watch.unwatch === null) return;
    this.#stopWatch(watch.key, watch);
  }
}
