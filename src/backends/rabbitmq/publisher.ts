/**
 * Publishing with publisher confirms on one confirm channel (style point 18, outbound to
 * RabbitMQ): every publish resolves on the broker's ack, rejects on a nack, a `mandatory`
 * return, a channel loss or its own timeout; a `false` from `publish()` parks further sends
 * until `'drain'`; at most {@link MAX_SENDS_PER_TICK} parked sends go out per tick.
 */
import type { ConfirmChannel, Message } from 'amqplib';
import { brokerUnavailable } from './errors.js';

/** Parked sends flushed per event-loop turn after a `'drain'`. */
export const MAX_SENDS_PER_TICK = 1000;

/** The stream a publish was routed to does not exist (basic.return 312 NO_ROUTE). */
export class UnroutableError extends Error {
  constructor(readonly routingKey: string) {
    super(`No queue is bound for routing key ${routingKey}`);
    this.name = 'UnroutableError';
  }
}

/**
 * The publisher's channel closed before the broker confirmed (connection loss, or a channel
 * error). Whether the message was stored is unknown; the backend retries once on a new channel
 * when the connection is still up (the fold drops a duplicate by `rid`), else reports 503.
 */
export class ChannelLostError extends Error {
  constructor(cause: unknown) {
    super('The publisher channel closed before the broker confirmed the write', { cause });
    this.name = 'ChannelLostError';
  }
}

interface PendingSend {
  readonly id: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  returned: boolean;
  settled: boolean;
}

/** Publishes to the default exchange (routing key = stream name) on one confirm channel. */
export class Publisher {
  readonly #channel: ConfirmChannel;
  readonly #confirmTimeoutMs: number;
  readonly #parked: PendingSend[] = [];
  readonly #inFlight = new Map<string, PendingSend>();
  #waitingForDrain = false;
  #failed: unknown = null;
  #seq = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(channel: ConfirmChannel, confirmTimeoutMs: number) {
    this.#channel = channel;
    this.#confirmTimeoutMs = confirmTimeoutMs;
    channel.on('drain', () => this.#onDrain());
    channel.on('return', (msg: Message) => this.#onReturn(msg));
  }

  /** Whether this publisher can still send (its channel has not failed). */
  get usable(): boolean {
    return this.#failed === null;
  }

  /**
   * Publishes `content` to the stream `routingKey` and resolves once the broker confirmed it.
   * Rejects with `ZQR_ERR_BROKER_UNAVAILABLE` on a nack or after `confirmTimeoutMs` (the
   * message may still have been stored: callers dedupe by `rid`), with {@link ChannelLostError}
   * when the channel closes first, and with {@link UnroutableError} when the stream does not exist.
   */
  publish(routingKey: string, content: Buffer, headers: Readonly<Record<string, string>> = {}): Promise<void> {
    if (this.#failed !== null) return Promise.reject(new ChannelLostError(this.#failed));
    return new Promise<void>((resolve, reject) => {
      this.#seq += 1;
      const send: PendingSend = {
        id: `m${this.#seq}`,
        routingKey,
        content,
        headers,
        resolve,
        reject,
        timer: undefined,
        returned: false,
        settled: false,
      };
      send.timer = setTimeout(
        () => this.#settle(send, brokerUnavailable('The message broker did not confirm the write in time.')),
        this.#confirmTimeoutMs,
      );
      // FIFO: while anything is parked, new sends queue behind it.
      if (this.#waitingForDrain || this.#parked.length > 0) this.#parked.push(send);
      else this.#send(send);
    });
  }

  /**
   * Resolves once nothing is parked or awaiting a confirm, or after `timeoutMs` (shutdown: let
   * in-flight confirms settle before the connection closes). Never rejects.
   */
  settled(timeoutMs: number): Promise<void> {
    if (this.#parked.length === 0 && this.#inFlight.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Rejects every pending publish (channel or connection lost, or shutting down). Idempotent. */
  fail(cause: unknown): void {
    if (this.#failed === null) this.#failed = cause ?? new Error('publisher closed');
    const err = new ChannelLostError(cause);
    for (const send of this.#parked.splice(0)) this.#settle(send, err);
    for (const send of [...this.#inFlight.values()]) this.#settle(send, err);
  }

  #send(send: PendingSend): void {
    if (send.settled) return;
    this.#inFlight.set(send.id, send);
    let accepted: boolean;
    try {
      accepted = this.#channel.publish(
        '',
        send.routingKey,
        send.content,
        { mandatory: true, persistent: true, contentType: 'application/json', messageId: send.id, headers: send.headers },
        (err: unknown) => this.#onConfirm(send, err),
      );
    } catch (err) {
      // amqplib throws synchronously once the channel is closed.
      this.#settle(send, new ChannelLostError(err));
      return;
    }
    if (!accepted) this.#waitingForDrain = true;
  }

  #onConfirm(send: PendingSend, err: unknown): void {
    if (err instanceof Error && err.message === 'channel closed') {
      // amqplib's text for confirms still pending when the channel closes
      this.#failed ??= err;
      this.#settle(send, new ChannelLostError(err));
    } else if (err !== null && err !== undefined) {
      this.#settle(send, brokerUnavailable('The message broker refused the write.', err));
    } else if (send.returned) {
      this.#settle(send, new UnroutableError(send.routingKey));
    } else {
      this.#settle(send, null);
    }
  }

  #onReturn(msg: Message): void {
    // basic.return always precedes the basic.ack of the same message on a confirm channel.
    const id: unknown = msg.properties.messageId;
    if (typeof id !== 'string') return;
    const send = this.#inFlight.get(id);
    if (send !== undefined) send.returned = true;
  }

  #onDrain(): void {
    this.#waitingForDrain = false;
    this.#flushParked();
  }

  #flushParked(): void {
    let sent = 0;
    while (!this.#waitingForDrain && this.#parked.length > 0 && sent < MAX_SENDS_PER_TICK) {
      const next = this.#parked.shift();
      if (next === undefined) break;
      this.#send(next);
      sent += 1;
    }
    if (!this.#waitingForDrain && this.#parked.length > 0) setImmediate(() => this.#flushParked());
  }

  #settle(send: PendingSend, err: unknown): void {
    if (send.settled) return;
    send.settled = true;
    clearTimeout(send.timer);
    this.#inFlight.delete(send.id);
    if (this.#parked.length > 0) {
      const i = this.#parked.indexOf(send);
      if (i >= 0) this.#parked.splice(i, 1); // timed out while waiting for 'drain'
    }
    if (err === null) send.resolve();
    else send.reject(err);
    if (this.#parked.length === 0 && this.#inFlight.size === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }
}
