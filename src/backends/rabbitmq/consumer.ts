/**
 * Tails: one stream consumer per tail, on its own channel, with a per-consumer prefetch and
 * manual acks (a stream consumer over AMQP 0.9.1 must ack: acks are its credit).
 *
 * A tail remembers the offset after the last record it delivered. Each (re)registration starts
 * the consumer there (`x-stream-offset: <n>`), and deliveries below it are dropped, so a
 * reconnect gives no gap and no duplicate. Until the first delivery the original start
 * (`first`, `next`, or the offset) is used again.
 *
 * A tail the broker cancelled (its stream was deleted) re-registers once the stream exists
 * again, and first makes sure it is the same log: it starts one record early, at the last
 * record it delivered, which must come back with the same bytes. A stream deleted and created
 * again under the same name starts its offsets from 0, and a consumer asking for an offset
 * beyond its end is sent nothing until the log gets there, so resuming blindly would skip the
 * new log's records. A different record there, or a log that ends before it (read from the
 * stream's last chunk while the tail hears nothing), means a new log: the handler's
 * `onReplaced` is told and the tail stops.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { LogEvent } from '../../core/events.js';
import type { Tail, TailHandler, TailStart } from '../../core/ports.js';
import type { DiagnosticSink } from './diagnostics.js';
import { describe } from './errors.js';

/** What a tail needs from the backend. */
export interface TailContext {
  /** Opens a channel on the live connection; rejects while disconnected. */
  openChannel(): Promise<Channel>;
  /** Declares the stream if this connection has not yet (lazy creation). */
  ensureStream(stream: string): Promise<void>;
  /** Resolves when the stream exists, never creating it; rejects while it does not. */
  checkStream(stream: string): Promise<void>;
  /** The highest offset in the stream's last chunk, or null when it is empty or gone. */
  lastOffset(stream: string): Promise<number | null>;
  isConnected(): boolean;
  readonly report: DiagnosticSink;
  /** Per-consumer prefetch (unacked deliveries in flight). */
  readonly prefetch: number;
  /** Delay before re-registering after a channel-level failure, ms. */
  readonly retryDelayMs: number;
  /** Called once when the tail closes, so the backend forgets it. */
  readonly onClosed: (tail: StreamTail) => void;
}

type Position = 'first' | 'next' | number;

/** How long a partial batch of acks may wait on a quiet stream, ms (see StreamTail#ack). */
export const IDLE_ACK_MS = 200;
/** How long a re-registered tail waits for its last record before reading the log's end, ms. */
export const VERIFY_PROBE_MS = 1_000;

/** Reads `x-stream-offset` from delivery headers (amqplib decodes the AMQP long to a number). */
export function streamOffsetOf(msg: ConsumeMessage): number | null {
  const headers: unknown = msg.properties.headers;
  if (typeof headers !== 'object' || headers === null) return null;
  const raw: unknown = (headers as Record<string, unknown>)['x-stream-offset'];
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
  if (typeof raw === 'bigint' && raw >= 0n && raw <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(raw);
  return null;
}

/**
 * Parses a stream record into an event, or null when it is not one. Only the envelope is
 * checked (`type`, `rid`, `at`): the bridge wrote it; anything else in a stream (a third party
 * publishing to it directly) is skipped.
 */
export function parseEvent(content: Buffer): LogEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (typeof v['type'] !== 'string' || typeof v['rid'] !== 'string' || typeof v['at'] !== 'number') return null;
  return value as LogEvent;
}

/** A live reader of one stream. Created by the backend; see the module comment. */
export class StreamTail implements Tail {
  readonly stream: string;
  readonly #handler: TailHandler;
  readonly #ctx: TailContext;
  #position: Position;
  #closed = false;
  #generation = 0;
  #channel: Channel | null = null;
  #retryTimer: NodeJS.Timeout | undefined;
  #registered: Promise<void> = Promise.resolve();
  #everRegistered = false;
  #toAck: { channel: Channel; msg: ConsumeMessage } | null = null;
  #unacked = 0;
  #ackScheduled = false;
  /**
   * Set when the broker cancelled the consumer (the stream was deleted, normally with its
   * queue): re-registration then waits for the stream to exist instead of declaring it, so a
   * deleted queue's stream is not brought back by a pod that still tails it.
   */
  #cancelled = false;
  /** The last record delivered (its offset and bytes), to recognise the log after a cancel. */
  #last: { readonly offset: number; readonly content: Buffer } | null = null;
  /** Re-registered after a cancel at {@link #last}, which has not come back yet. */
  #verifying = false;
  #probeTimer: NodeJS.Timeout | undefined;

  constructor(stream: string, start: TailStart, handler: TailHandler, ctx: TailContext) {
    this.stream = stream;
    this.#handler = handler;
    this.#ctx = ctx;
    this.#position = typeof start === 'object' ? Math.max(0, Math.floor(start.offset)) : start;
  }

  /**
   * True until a `next` tail's consumer is first registered: an append issued meanwhile must
   * wait for {@link registered}, or it could land before the consumer's start and be missed.
   */
  get pendingNext(): boolean {
    return this.#position === 'next' && !this.#everRegistered && !this.#closed;
  }

  /** Settles when the current registration attempt has finished (either way). */
  get registered(): Promise<void> {
    return this.#registered;
  }

  /** (Re)registers the consumer on the live connection. Called on creation and after each reconnect. */
  attach(): void {
    if (this.#closed) return;
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    const generation = this.#generation;
    this.#registered = this.#register(generation);
  }

  /** Forgets the channel of a lost connection; {@link attach} follows once reconnected. */
  detach(): void {
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#probeTimer);
    this.#channel = null;
    this.#toAck = null;
    this.#unacked = 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#probeTimer);
    const channel = this.#channel;
    this.#channel = null;
    this.#toAck = null;
    // Closing the channel cancels the consumer; unacked stream deliveries need no requeue.
    if (channel !== null) channel.close().catch(() => undefined);
    this.#ctx.onClosed(this);
  }

  async #register(generation: number): Promise<void> {
    let channel: Channel | null = null;
    try {
      if (this.#cancelled) await this.#ctx.checkStream(this.stream);
      else await this.#ctx.ensureStream(this.stream);
      // After a cancel, start at the last record delivered: it must come back unchanged.
      const verify = this.#cancelled && this.#handler.onReplaced !== undefined ? this.#last : null;
      channel = await this.#ctx.openChannel();
      if (generation !== this.#generation) {
        await channel.close().catch(() => undefined);
        return;
      }
      this.#channel = channel;
      const ch = channel;
      ch.on('error', () => undefined); // 'close' follows and does the work
      ch.on('close', () => this.#onChannelClosed(ch));
      await ch.prefetch(this.#ctx.prefetch, false);
      await ch.consume(this.stream, (msg) => this.#onMessage(ch, msg), {
        noAck: false,
        arguments: { 'x-stream-offset': verify === null ? this.#position : verify.offset },
      });
      if (generation === this.#generation) {
        this.#everRegistered = true;
        this.#cancelled = false;
        this.#verifying = verify !== null;
        if (verify !== null) this.#scheduleProbe(generation);
      }
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#ctx.report({ type: 'tail_error', stream: this.stream, cause: describe(err) });
      if (channel !== null && channel === this.#channel) {
        this.#channel = null;
        channel.close().catch(() => undefined);
      }
      this.#scheduleRetry(generation);
    }
  }

  #scheduleRetry(generation: number): void {
    if (this.#closed || generation !== this.#generation || !this.#ctx.isConnected()) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (generation === this.#generation && this.#ctx.isConnected()) this.attach();
    }, this.#ctx.retryDelayMs);
  }

  #onChannelClosed(channel: Channel): void {
    if (channel !== this.#channel) return;
    this.#channel = null;
    // A connection loss also closes the channel: the backend re-attaches after reconnecting.
    this.#scheduleRetry(this.#generation);
  }

  #onMessage(channel: Channel, msg: ConsumeMessage | null): void {
    if (channel !== this.#channel || this.#closed) return;
    if (msg === null) {
      this.#ctx.report({ type: 'tail_cancelled', stream: this.stream });
      this.#cancelled = true;
      this.#channel = null;
      channel.close().catch(() => undefined);
      this.#scheduleRetry(this.#generation);
      return;
    }
    this.#ack(channel, msg);
    const offset = streamOffsetOf(msg);
    if (offset === null) {
      this.#ctx.report({ type: 'record_skipped', stream: this.stream, offset: null, reason: 'no x-stream-offset header' });
      return;
    }
    const last = this.#last;
    if (this.#verifying && last !== null && offset >= last.offset) {
      this.#verifying = false;
      clearTimeout(this.#probeTimer);
      if (offset !== last.offset || !msg.content.equals(last.content)) {
        this.#replaced(last.offset);
        return;
      }
    }
    if (typeof this.#position === 'number' && offset < this.#position) return; // already delivered
    this.#position = offset + 1;
    this.#last = { offset, content: msg.content };
    this.#deliver(offset, msg.content);
  }

  /**
   * Still waiting for the last record after {@link VERIFY_PROBE_MS}: on the same log it would
   * have come back at once, so read where the log ends. One that ends before it is a new log.
   */
  #scheduleProbe(generation: number): void {
    clearTimeout(this.#probeTimer);
    const pending = (): boolean => this.#verifying && generation === this.#generation;
    this.#probeTimer = setTimeout(() => {
      const last = this.#last;
      if (!pending() || last === null) return;
      this.#ctx.lastOffset(this.stream).then(
        (end) => {
          if (!pending()) return;
          if (end !== null && end < last.offset) this.#replaced(last.offset);
          else this.#scheduleProbe(generation);
        },
        () => {
          if (pending()) this.#scheduleProbe(generation);
        },
      );
    }, VERIFY_PROBE_MS);
    this.#probeTimer.unref();
  }

  #replaced(lastOffset: number): void {
    this.#ctx.report({ type: 'stream_replaced', stream: this.stream, lastOffset });
    this.close();
    try {
      this.#handler.onReplaced?.();
    } catch (err) {
      this.#ctx.report({ type: 'handler_error', stream: this.stream, offset: lastOffset, cause: describe(err) });
    }
  }

  #deliver(offset: number, content: Buffer): void {
    const event = parseEvent(content);
    if (event === null) {
      this.#ctx.report({ type: 'record_skipped', stream: this.stream, offset, reason: 'not an event' });
      return;
    }
    try {
      this.#handler.onRecord({ offset, event });
    } catch (err) {
      this.#ctx.report({ type: 'handler_error', stream: this.stream, offset, cause: describe(err) });
    }
  }

  /**
   * Acks in batches (`multiple`). On a stream an ack is only credit, and nothing is redelivered,
   * so it is enough to ack once half the prefetch is outstanding: the consumer never runs out
   * of credit, and a busy stream costs one ack frame per `prefetch / 2` records instead of one
   * per event-loop turn. A quiet stream's remainder is acked after {@link IDLE_ACK_MS}.
   */
  #ack(channel: Channel, msg: ConsumeMessage): void {
    this.#toAck = { channel, msg };
    this.#unacked += 1;
    if (this.#unacked >= Math.max(1, Math.floor(this.#ctx.prefetch / 2))) {
      this.#flushAcks();
      return;
    }
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    setTimeout(() => {
      this.#ackScheduled = false;
      this.#flushAcks();
    }, IDLE_ACK_MS).unref();
  }

  #flushAcks(): void {
    const pending = this.#toAck;
    this.#toAck = null;
    this.#unacked = 0;
    if (pending === null || pending.channel !== this.#channel) return;
    try {
      pending.channel.ack(pending.msg, true);
    } catch {
      // The channel closed under us; its deliveries no longer need acks.
    }
  }
}
