/**
 * Foreign messages: what workflows publish straight to the public topic exchange.
 *
 * The exchange routes everything (`#`) to one durable ingress queue, consumed competitively by
 * every pod. Each delivery is handed to the registered handler with the project and queue read
 * back from the routing key; the handler (the core, through the composition root) validates it,
 * appends a proper `post` event (id, time, lazy queue creation) and only then acks. Nothing is
 * lost when the Zaqar queue does not exist yet, a pod dies mid-way (redelivery: at-least-once;
 * the fold drops duplicates by `rid` = AMQP `message_id`), or a message is invalid (the handler
 * rejects it to the dead-letter queue).
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { DiagnosticSink } from './diagnostics.js';
import { describe } from './errors.js';
import { parseRoutingKey } from './topology.js';

/** One message taken from the ingress queue. Settle it exactly once with `ack` or `reject`. */
export interface ForeignDelivery {
  /** Project read from the routing key (escapes decoded). */
  readonly project: string;
  /** Queue name read from the routing key; not yet validated. */
  readonly queue: string;
  readonly routingKey: string;
  /** The message body as published. {@link parseForeignMessage} reads the accepted formats. */
  readonly raw: Buffer;
  /** AMQP `message_id`, or null. Use it as the event `rid` so redeliveries are recognised. */
  readonly messageId: string | null;
  /** AMQP `content_type`, or null. */
  readonly contentType: string | null;
  /** True when the broker has delivered it before (a pod died or the handler requeued it). */
  readonly redelivered: boolean;
  /** Removes it from the ingress. Call only after the `post` event's append resolved. */
  ack(): void;
  /**
   * `requeue: true` puts it back for another try (transient failure, e.g. 503 from the append);
   * `false` dead-letters it to `<exchange>.ingress.dead` (invalid message).
   */
  reject(requeue: boolean): void;
}

/**
 * Receives foreign messages. May be async; a throw or rejection requeues the message (quorum
 * ingress queues dead-letter it after the delivery limit).
 */
export type ForeignMessageHandler = (delivery: ForeignDelivery) => void | Promise<void>;

/** A foreign message read by {@link parseForeignMessage}. */
export interface ForeignMessage {
  readonly body: unknown;
  /** Seconds, when given. */
  readonly ttl?: number;
  /** Seconds, when given. */
  readonly delay?: number;
}

const ENVELOPE_KEYS = new Set(['body', 'ttl', 'delay']);

/**
 * Reads a foreign message body. Accepted (UTF-8 JSON):
 * - Zaqar's message format: an object with a `body` key and optionally `ttl` and `delay`, and
 *   no other key, e.g. `{"body": {"event": "done"}, "ttl": 300}`;
 * - anything else that is valid JSON is a bare body (default ttl and no delay), e.g.
 *   `{"event": "done"}` or `"hello"`.
 *
 * Returns null when the bytes are not JSON. Ranges (ttl, delay) and the queue's schema are the
 * core's job; this only separates the envelope from the body.
 */
export function parseForeignMessage(raw: Buffer): ForeignMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('body' in value)) return { body: value };
  const obj = value as Record<string, unknown>;
  if (!Object.keys(obj).every((k) => ENVELOPE_KEYS.has(k))) return { body: value };
  const out: { body: unknown; ttl?: number; delay?: number } = { body: obj['body'] };
  const ttl = obj['ttl'];
  const delay = obj['delay'];
  if (typeof ttl === 'number') out.ttl = ttl;
  if (typeof delay === 'number') out.delay = delay;
  return out;
}

/** What the ingress consumer needs from the backend. */
export interface IngressContext {
  readonly queue: string;
  readonly prefetch: number;
  openChannel(): Promise<Channel>;
  isConnected(): boolean;
  readonly report: DiagnosticSink;
  readonly retryDelayMs: number;
}

/** Consumes the ingress queue while a handler is set and the connection is up. */
export class IngressConsumer {
  readonly #ctx: IngressContext;
  #handler: ForeignMessageHandler | null = null;
  #channel: Channel | null = null;
  #consumerTag: string | null = null;
  /** Handlers still storing a delivery (they ack or reject it when done). */
  readonly #inFlight = new Set<Promise<void>>();
  /** The last delivery of each target queue, which the next one of that queue waits for. */
  readonly #chains = new Map<string, Promise<void>>();
  #generation = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(ctx: IngressContext) {
    this.#ctx = ctx;
  }

  /** Sets (or, with null, removes) the handler; consumption starts/stops accordingly. */
  setHandler(handler: ForeignMessageHandler | null): void {
    this.#handler = handler;
    if (handler === null) this.detach(true);
    else if (this.#channel === null && this.#ctx.isConnected()) this.attach();
  }

  /** Starts consuming on the live connection (no-op without a handler). */
  attach(): void {
    if (this.#handler === null) return;
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    void this.#register(this.#generation);
  }

  /**
   * Graceful stop: cancels the consumer (no new deliveries), lets the handlers in flight finish
   * and settle their deliveries on the still-open channel (for at most `timeoutMs`), then
   * closes it. Without the wait, handlers would store a message and then fail to ack it on a
   * closed channel, and the broker would deliver it again to another pod: a duplicate.
   */
  async drain(timeoutMs: number): Promise<void> {
    const channel = this.#channel;
    const tag = this.#consumerTag;
    this.#handler = null;
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    if (channel !== null && tag !== null) await channel.cancel(tag).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#channel = null;
    this.#consumerTag = null;
    if (channel !== null) await channel.close().catch(() => undefined);
  }

  /** Stops consuming; unacked deliveries return to the queue when the channel closes. */
  detach(closeChannel = false): void {
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    const channel = this.#channel;
    this.#channel = null;
    this.#consumerTag = null;
    if (closeChannel && channel !== null) channel.close().catch(() => undefined);
  }

  async #register(generation: number): Promise<void> {
    let channel: Channel | null = null;
    try {
      channel = await this.#ctx.openChannel();
      if (generation !== this.#generation) {
        await channel.close().catch(() => undefined);
        return;
      }
      const ch = channel;
      this.#channel = ch;
      ch.on('error', () => undefined);
      ch.on('close', () => this.#onChannelClosed(ch));
      await ch.prefetch(this.#ctx.prefetch, false);
      const { consumerTag } = await ch.consume(this.#ctx.queue, (msg) => this.#onMessage(ch, msg), { noAck: false });
      if (this.#channel === ch) this.#consumerTag = consumerTag;
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#ctx.report({ type: 'tail_error', stream: this.#ctx.queue, cause: describe(err) });
      if (channel !== null) channel.close().catch(() => undefined);
      this.#channel = null;
      this.#scheduleRetry(generation);
    }
  }

  #scheduleRetry(generation: number): void {
    if (generation !== this.#generation || this.#handler === null || !this.#ctx.isConnected()) return;
    this.#retryTimer = setTimeout(() => {
      if (generation === this.#generation && this.#ctx.isConnected()) this.attach();
    }, this.#ctx.retryDelayMs);
  }

  #onChannelClosed(channel: Channel): void {
    if (channel !== this.#channel) return;
    this.#channel = null;
    this.#scheduleRetry(this.#generation);
  }

  #onMessage(channel: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // Cancelled by the broker (ingress queue deleted): the next reconnect redeclares it.
      if (channel === this.#channel) this.#onChannelClosed(channel);
      return;
    }
    const handler = this.#handler;
    if (handler === null || channel !== this.#channel) return; // unacked: redelivered elsewhere
    const routingKey = msg.fields.routingKey;
    const target = parseRoutingKey(routingKey);
    if (target === null) {
      this.#ctx.report({ type: 'ingress_dead_lettered', routingKey, reason: 'routing key is not <project>.<queue>' });
      safely(() => channel.reject(msg, false));
      return;
    }
    const delivery = makeDelivery(channel, msg, target.project, target.queue);
    // One queue's messages are stored one after another, in the order the broker delivers
    // them (a workflow's RUNNING before its SUCCESS); different queues proceed in parallel.
    const key = `${target.project}\u0000${target.queue}`;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const running: Promise<void> = previous
      .then(() => handler(delivery))
      .catch((err: unknown) => {
        this.#ctx.report({ type: 'ingress_handler_error', routingKey, cause: describe(err) });
        delivery.reject(true);
      })
      .finally(() => {
        this.#inFlight.delete(running);
        if (this.#chains.get(key) === running) this.#chains.delete(key);
      });
    this.#chains.set(key, running);
    this.#inFlight.add(running);
  }
}

function makeDelivery(channel: Channel, msg: ConsumeMessage, project: string, queue: string): ForeignDelivery {
  let settled = false;
  const settle = (fn: () => void): void => {
    if (settled) return;
    settled = true;
    safely(fn);
  };
  const messageId: unknown = msg.properties.messageId;
  const contentType: unknown = msg.properties.contentType;
  return {
    project,
    queue,
    routingKey: msg.fields.routingKey,
    raw: msg.content,
    messageId: typeof messageId === 'string' && messageId.length > 0 ? messageId : null,
    contentType: typeof contentType === 'string' ? contentType : null,
    redelivered: msg.fields.redelivered,
    ack: () => settle(() => channel.ack(msg)),
    reject: (requeue: boolean) => settle(() => channel.reject(msg, requeue)),
  };
}

/** Acks and rejects on a closed channel throw; the broker redelivers those messages anyway. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // see above
  }
}
