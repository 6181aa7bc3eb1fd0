/**
 * The pod's single AMQP connection: single-flight dial, full-jitter exponential backoff with a
 * cancellable timer, and one explicit state machine (style point 17).
 *
 * ```
 *  idle ──start()──▶ connecting ──ok──▶ connected ──drop──▶ waiting ──timer──▶ connecting …
 *                        │ handshake refused (403, 530, …)                    ▲
 *                        └────────▶ failed            connecting ──retryable──┘
 *  any ──close()──▶ closed
 * ```
 *
 * amqplib 2.x has its own recovery (`connect(url, {recovery})`), but its `createChannel()` waits
 * for the next connection while one is down, and the backend needs the opposite: writes must
 * fail at once with 503 while subscriptions wait. Owning the loop also gives the explicit states
 * and the `{from, to}` events the composition root feeds to readiness.
 */
import { hostname } from 'node:os';
import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { describe, isFatal } from './errors.js';
import { splitAmqpUrls } from '../../lib/amqp-urls.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'failed' | 'closed';

/** A state change; `cause` is the error that moved the connection away from `connected`/`connecting`. */
export interface StateChange {
  readonly from: ConnectionState;
  readonly to: ConnectionState;
  readonly cause?: unknown;
}

export interface ConnectionOptions {
  readonly url: string;
  /** Socket connect timeout per attempt, ms. */
  readonly connectTimeoutMs: number;
  /** AMQP heartbeat, seconds; added to the URL unless it sets one. */
  readonly heartbeatSeconds: number;
  /** Backoff bounds, ms: the delay before attempt n is uniform in [minMs, min(maxMs, minMs·2ⁿ)]. */
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /**
   * Runs on every new connection before it counts as `connected` (declare topology, open the
   * publisher channel). A rejection closes that connection and schedules another attempt
   * (or fails for a fatal reply code).
   */
  readonly setup: (model: ChannelModel) => Promise<void>;
  /** Reports a scheduled retry (for logs and metrics). */
  readonly onRetry?: (info: { attempt: number; delayMs: number; cause: unknown }) => void;
  readonly onBlocked?: (blocked: boolean, reason?: string) => void;
}

/** Full-jitter exponential backoff: uniform in [min, min(max, min·2^attempt)]. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(minMs + random() * (cap - minMs));
}

/** A timer that can be cancelled; `promise` resolves when it fires (never when cancelled). */
function cancellableWait(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/**
 * amqplib hands every frame to the socket with its own `write()`, and with `noDelay` each one
 * is a syscall and a TCP segment (on loopback the sender's syscall also does the receiver's
 * TCP work and wakes the broker). Its muxer drains every channel's frames in one go
 * (`_readIncoming`, on `setImmediate`): corking the socket around that pass sends them with
 * one `writev`. Nothing is delayed (the uncork is synchronous), so Nagle's 40 ms stall does
 * not come back. Feature-detected: if amqplib's internals change shape, this does nothing.
 */
export function coalesceWrites(model: ChannelModel): boolean {
  interface Internals {
    readonly connection?: {
      readonly stream?: { cork?: () => void; uncork?: () => void };
      readonly muxer?: { _readIncoming?: () => void };
    };
  }
  const conn = (model as unknown as Internals).connection;
  const stream = conn?.stream;
  const muxer = conn?.muxer;
  if (stream === undefined || muxer === undefined) return false;
  const { cork, uncork } = stream;
  const drain = muxer._readIncoming;
  if (typeof cork !== 'function' || typeof uncork !== 'function' || typeof drain !== 'function') return false;
  muxer._readIncoming = function coalesced(this: unknown): void {
    cork.call(stream);
    try {
      drain.call(this);
    } finally {
      uncork.call(stream);
    }
  };
  return true;
}

/** See the module comment. One instance per backend; never shared between backends. */
export class AmqpConnection {
  readonly #opts: ConnectionOptions;
  /** The nodes to dial, in turn (one URL, or a cluster's list). */
  readonly #urls: readonly string[];
  #nextUrl = 0;
  readonly #listeners = new Set<(change: StateChange) => void>();
  #state: ConnectionState = 'idle';
  #lastCause: unknown = undefined;
  #model: ChannelModel | null = null;
  #dialing: Promise<void> | null = null;
  #retry: { cancel: () => void } | null = null;
  #attempt = 0;
  #firstUp: Promise<void> | null = null;
  #settleFirstUp: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  /** Connections that closed while their setup was still running. */
  readonly #droppedDuringSetup = new WeakSet<ChannelModel>();

  constructor(opts: ConnectionOptions) {
    this.#opts = opts;
    this.#urls = splitAmqpUrls(opts.url).map((u) => withHeartbeat(u, opts.heartbeatSeconds));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the connection is not `connected` (undefined when it is, or never tried). */
  get lastCause(): unknown {
    return this.#lastCause;
  }

  /** The live channel model, or null unless `connected`. */
  get model(): ChannelModel | null {
    return this.#state === 'connected' ? this.#model : null;
  }

  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Starts dialling (idempotent). Resolves on the first successful connection; rejects when the
   * first connection fails with a fatal reply code, or `close()` is called first. Retryable
   * failures keep it pending while the loop retries with backoff.
   */
  start(): Promise<void> {
    if (this.#firstUp !== null) return this.#firstUp;
    this.#firstUp = new Promise<void>((resolve, reject) => {
      this.#settleFirstUp = { resolve, reject };
    });
    void this.#dial();
    return this.#firstUp;
  }

  /** Closes the connection and stops reconnecting. Idempotent; never rejects. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#retry?.cancel();
    this.#retry = null;
    const model = this.#model;
    this.#model = null;
    this.#setState('closed', new Error('closed'));
    this.#settleFirstUp?.reject(new Error('Connection closed before it was established'));
    if (model === null) return;
    // Listeners go first: the close below must not look like a drop and schedule a reconnect.
    model.removeAllListeners('close');
    model.removeAllListeners('blocked');
    model.removeAllListeners('unblocked');
    model.on('error', () => undefined);
    try {
      await model.close();
    } catch {
      // Already closed by the broker or the socket: nothing left to release.
    }
  }

  #setState(to: ConnectionState, cause?: unknown): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#lastCause = to === 'connected' ? undefined : cause;
    const change: StateChange = cause === undefined ? { from, to } : { from, to, cause };
    for (const listener of [...this.#listeners]) listener(change);
  }

  /** Single-flight: concurrent callers share one attempt. */
  #dial(): Promise<void> {
    if (this.#dialing !== null) return this.#dialing;
    this.#dialing = this.#attemptOnce().finally(() => {
      this.#dialing = null;
    });
    return this.#dialing;
  }

  async #attemptOnce(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#setState('connecting', this.#lastCause);
    let model: ChannelModel;
    try {
      // Each attempt dials the next node of the list: a node that went away is failed over.
      const url = this.#urls[this.#nextUrl++ % this.#urls.length] ?? '';
      model = await connect(url, {
        timeout: this.#opts.connectTimeoutMs,
        // Without TCP_NODELAY, Nagle's algorithm meets the broker's delayed ACKs and every
        // small publish or ack waits ~40 ms: a write's read-back took 40 ms instead of 1.
        noDelay: true,
        clientProperties: { connection_name: `zaqar-bridge ${hostname()} pid ${process.pid}` },
      });
    } catch (err) {
      this.#onAttemptFailed(err, isFatal(err));
      return;
    }
    if (this.#isClosed()) {
      await model.close().catch(() => undefined);
      return;
    }
    coalesceWrites(model);
    try {
      this.#watch(model);
      await this.#opts.setup(model);
    } catch (err) {
      // Setup errors are retried even with a "fatal" code: during a broker restart a declare
      // can fail with 404 "home node … is down or inaccessible" for a while.
      this.#discard(model);
      this.#onAttemptFailed(err, false);
      return;
    }
    if (this.#isClosed()) {
      this.#discard(model);
      return;
    }
    if (this.#droppedDuringSetup.has(model)) {
      this.#onAttemptFailed(new Error('Connection closed during setup'), false);
      return;
    }
    this.#model = model;
    this.#attempt = 0;
    this.#setState('connected');
    this.#settleFirstUp?.resolve();
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #watch(model: ChannelModel): void {
    // 'error' always precedes 'close' for an abnormal close; the close handler does the work.
    model.on('error', () => undefined);
    model.on('close', (err?: Error) => this.#onDropped(model, err ?? new Error('Connection closed by the broker')));
    model.on('blocked', (reason: string) => this.#opts.onBlocked?.(true, reason));
    model.on('unblocked', () => this.#opts.onBlocked?.(false));
  }

  #discard(model: ChannelModel): void {
    model.removeAllListeners('close');
    model.on('error', () => undefined);
    model.close().catch(() => undefined);
  }

  #onDropped(model: ChannelModel, cause: unknown): void {
    if (model !== this.#model) {
      this.#droppedDuringSetup.add(model); // setup has not finished: #attemptOnce handles it
      return;
    }
    this.#model = null;
    this.#scheduleRetry(cause);
  }

  #onAttemptFailed(err: unknown, fatal: boolean): void {
    if (this.#isClosed()) return;
    if (fatal) {
      this.#setState('failed', err);
      this.#settleFirstUp?.reject(err);
      return;
    }
    this.#scheduleRetry(err);
  }

  #scheduleRetry(cause: unknown): void {
    if (this.#isClosed()) return;
    this.#setState('waiting', cause);
    const delayMs = backoffDelay(this.#attempt, this.#opts.backoffMinMs, this.#opts.backoffMaxMs);
    this.#attempt += 1;
    this.#opts.onRetry?.({ attempt: this.#attempt, delayMs, cause: describe(cause) });
    const wait = cancellableWait(delayMs);
    this.#retry = wait;
    void wait.promise.then(() => {
      if (this.#retry !== wait) return;
      this.#retry = null;
      void this.#dial();
    });
  }
}
