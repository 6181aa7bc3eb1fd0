/**
 * The RabbitMQ backend: each log is a RabbitMQ stream; foreign producers publish to a topic
 * exchange whose messages reach the core through an ingress queue.
 *
 * Layout: connection.ts (one connection per pod, reconnect, states), topology.ts (names,
 * public declarations), streams.ts (lazy stream declaration), options.ts (defaults),
 * publisher.ts (confirms, drain, timeout), consumer.ts (tails), ingress.ts (foreign messages),
 * errors.ts (amqplib → core errors), diagnostics.ts (what is reported).
 */
import type { Channel, ChannelModel } from 'amqplib';
import type { LogEvent } from '../../core/events.js';
import type { Backend, BackendStatus, LogRef, LogSnapshot, Tail, TailHandler, TailStart } from '../../core/ports.js';
import { AmqpConnection } from './connection.js';
import type { StateChange } from './connection.js';
import { StreamTail, streamOffsetOf } from './consumer.js';
import type { Diagnostic } from './diagnostics.js';
import { AMQP_REPLY, brokerUnavailable, describe, replyCodeOf, toCoreError } from './errors.js';
import { IngressConsumer } from './ingress.js';
import type { ForeignMessageHandler } from './ingress.js';
import { ChannelLostError, Publisher, UnroutableError } from './publisher.js';
import { encodeSnapshot, readNewestSnapshot } from './snapshots.js';
import { StreamDeclarer } from './streams.js';
import { declarePublicTopology, streamNameOf, topologyNames } from './topology.js';
import type { TopologyNames } from './topology.js';
import { settingsOf } from './options.js';
import type { RabbitMqBackendOptions, Settings } from './options.js';

export type { Diagnostic } from './diagnostics.js';
export type { ForeignDelivery, ForeignMessage, ForeignMessageHandler } from './ingress.js';
export { parseForeignMessage } from './ingress.js';
export { parseRoutingKey, routingKeyOf, streamNameOf, topologyNames } from './topology.js';
export { FATAL_REPLY_CODES } from './errors.js';
export { DEFAULT_CATALOG_RETENTION_SECONDS, DEFAULT_RETENTION_SECONDS, DEFAULT_SEGMENT_BYTES } from './options.js';
export type { RabbitMqBackendOptions } from './options.js';

/** Rejects with a 503 after `ms` unless `work` settles first. */
function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(brokerUnavailable(`${what} The message broker did not answer in time.`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Pause before re-publishing on a new channel after a channel loss, ms. */
const PUBLISH_RETRY_DELAY_MS = 25;
/** How long the deliveries of one chunk may trail the first, ms (see #probeLast). */
const LAST_CHUNK_MS = 200;
/** Unacked deliveries the last-chunk probe takes: more than a chunk of small records holds. */
const LAST_CHUNK_PREFETCH = 10_000;

const CLOSED_TAIL: Tail = { close: () => undefined };

/**
 * {@link Backend} on RabbitMQ streams. See docs in the module comment of each file; the
 * contract is the port's.
 *
 * Beyond the port: {@link onForeignMessage} (messages workflows publish to the exchange) and
 * {@link onDiagnostic} (reconnects, skipped records, … for logs and metrics).
 */
export class RabbitMqBackend implements Backend {
  readonly name = 'rabbitmq';
  readonly #s: Settings;
  readonly #names: TopologyNames;
  readonly #conn: AmqpConnection;
  readonly #statusListeners = new Set<(status: BackendStatus) => void>();
  readonly #diagnosticListeners = new Set<(d: Diagnostic) => void>();
  readonly #confirmListeners = new Set<(seconds: number) => void>();
  readonly #tails = new Map<string, Set<StreamTail>>();
  /** Streams whose consumers the broker cancelled since they were last tailed anew. */
  readonly #cancelledStreams = new Set<string>();
  readonly #ingress: IngressConsumer;
  #unwatchConn: () => void;
  #status: BackendStatus = { type: 'down' };
  #started: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #model: ChannelModel | null = null;
  #publisher: Promise<Publisher> | null = null;
  readonly #streams: StreamDeclarer;

  constructor(options: RabbitMqBackendOptions) {
    this.#s = settingsOf(options);
    this.#names = topologyNames(options.exchange ?? 'zaqar');
    this.#conn = new AmqpConnection({
      url: options.url,
      connectTimeoutMs: this.#s.connectTimeoutMs,
      heartbeatSeconds: this.#s.heartbeatSeconds,
      backoffMinMs: this.#s.reconnectMinMs,
      backoffMaxMs: this.#s.reconnectMaxMs,
      setup: (model) => this.#setup(model),
      onRetry: ({ attempt, delayMs, cause }) =>
        this.#report({ type: 'reconnect_scheduled', attempt, delayMs, cause: describe(cause) }),
      onBlocked: (blocked, reason) =>
        this.#report(blocked ? { type: 'connection_blocked', reason: reason ?? '' } : { type: 'connection_unblocked' }),
    });
    this.#streams = new StreamDeclarer({
      names: this.#names,
      settings: this.#s.streams,
      settleMs: this.#s.streamSettleMs,
      liveModel: () => this.#liveModel(),
      report: (d) => this.#report(d),
    });
    this.#unwatchConn = this.#conn.onStateChange((change) => this.#onStateChange(change));
    this.#ingress = new IngressConsumer({
      queue: this.#names.ingressQueue,
      prefetch: this.#s.ingressPrefetch,
      openChannel: () => this.#openChannel(),
      isConnected: () => this.#conn.state === 'connected',
      report: (d) => this.#report(d),
      retryDelayMs: this.#s.reconnectMinMs,
    });
  }

  /**
   * Connects (idempotent). Resolves on the first successful connection; rejects with
   * `ZQR_ERR_INTERNAL` for a fatal reply code (bad credentials, unknown vhost) or when closed
   * first. While the broker is unreachable it stays pending and keeps retrying: race it with a
   * timeout to boot without the broker (status stays `down`, appends get 503).
   */
  start(): Promise<void> {
    this.#started ??= this.#conn.start().catch((err: unknown) => {
      throw toCoreError(err, 'Could not connect to the message broker.');
    });
    return this.#started;
  }

  status(): BackendStatus {
    return this.#status;
  }

  onStatus(listener: (status: BackendStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** Told, for every confirmed publish, the seconds from publish to confirm (metrics); returns the unsubscribe function. */
  onPublishConfirmed(listener: (seconds: number) => void): () => void {
    this.#confirmListeners.add(listener);
    return () => this.#confirmListeners.delete(listener);
  }

  /** Subscribes to {@link Diagnostic}s; returns the unsubscribe function. */
  onDiagnostic(listener: (d: Diagnostic) => void): () => void {
    this.#diagnosticListeners.add(listener);
    return () => this.#diagnosticListeners.delete(listener);
  }

  /**
   * Sets the handler of foreign messages (published by workflows to the exchange with routing
   * key `<project>.<queue>`, see {@link routingKeyOf}). Consumption of the ingress queue starts
   * when a handler is set and stops when the returned function is called. One handler at a time.
   */
  onForeignMessage(handler: ForeignMessageHandler): () => void {
    this.#ingress.setHandler(handler);
    return () => this.#ingress.setHandler(null);
  }

  /**
   * Stops taking foreign messages gracefully before shutdown: no new deliveries, and the ones
   * being stored are settled (for at most `timeoutMs`) before the ingress channel closes.
   */
  drainIngress(timeoutMs: number): Promise<void> {
    return this.#ingress.drain(timeoutMs);
  }

  async append(log: LogRef, event: LogEvent): Promise<void> {
    this.#assertWritable();
    const stream = streamNameOf(this.#names, log);
    const content = Buffer.from(JSON.stringify(event), 'utf8');
    try {
      await withDeadline(this.#appendTo(stream, content, event.rid), this.#s.confirmTimeoutMs, 'Write failed.');
    } catch (err) {
      throw toCoreError(err, 'Write failed.');
    }
  }

  tail(log: LogRef, start: TailStart, handler: TailHandler): Tail {
    if (this.#closing !== null) return CLOSED_TAIL;
    const stream = streamNameOf(this.#names, log);
    // A new tail of a stream whose consumer the broker cancelled (deleted with its queue) is a
    // new reader of the queue's next log: declare it again rather than trust the declaration.
    if (this.#cancelledStreams.delete(stream)) this.#streams.forget(stream);
    const tail = new StreamTail(stream, start, handler, {
      openChannel: () => this.#openChannel(),
      ensureStream: (name) => this.#streams.ensure(name),
      checkStream: (name) => this.#checkStream(name),
      lastOffset: (name) => this.#readOnce((channel) => this.#probeLast(channel, name)),
      isConnected: () => this.#conn.state === 'connected',
      report: (d) => this.#report(d),
      prefetch: this.#s.tailPrefetch,
      retryDelayMs: this.#s.reconnectMinMs,
      onClosed: (t) => this.#forgetTail(t),
    });
    let set = this.#tails.get(stream);
    if (set === undefined) {
      set = new Set();
      this.#tails.set(stream, set);
    }
    set.add(tail);
    if (this.#conn.state === 'connected') tail.attach();
    return tail;
  }

  /**
   * Starts a throwaway consumer at `first` and reads the offset of its first delivery. A stream
   * that does not exist gives null at once; one that exists but delivers nothing within
   * `emptyProbeMs` (or `confirmTimeoutMs` when the broker reports messages) is taken as empty.
   */
  firstOffset(log: LogRef): Promise<number | null> {
    const stream = streamNameOf(this.#names, log);
    return this.#readOnce((channel) => this.#probeFirst(channel, stream));
  }

  /**
   * Deletes the queue's stream (every segment on every replica). Our own tails of it are
   * cancelled by the broker and re-register only once the stream exists again (see
   * StreamTail); nothing here declares it again.
   */
  async deleteLog(log: LogRef & { readonly kind: 'queue' }): Promise<void> {
    this.#assertWritable();
    const stream = streamNameOf(this.#names, log);
    try {
      await withDeadline(this.#onThrowawayChannel((channel) => channel.deleteQueue(stream)), this.#s.confirmTimeoutMs, 'Delete failed.');
    } catch (err) {
      throw toCoreError(err, 'Delete failed.');
    } finally {
      this.#streams.forget(stream);
    }
  }

  /** Publishes the snapshot (gzipped JSON) to the catalogue's snapshot stream, confirmed. */
  async saveCatalogSnapshot(snapshot: LogSnapshot): Promise<void> {
    this.#assertWritable();
    const content = encodeSnapshot(snapshot);
    const work = this.#appendTo(this.#names.catalogSnapshotStream, content, `catalog-snapshot-${snapshot.offset}`);
    try {
      await withDeadline(work, this.#s.confirmTimeoutMs, 'Snapshot write failed.');
    } catch (err) {
      throw toCoreError(err, 'Snapshot write failed.');
    }
  }

  /**
   * The newest snapshot in the catalogue's snapshot stream (read from its last chunk), or null
   * when the stream does not exist. The stream only exists once a snapshot was published to it
   * (and a size limit never empties it), so it waits for the last chunk up to the confirm
   * timeout. When the catalogue has lost its head to retention and no snapshot can be read, it
   * fails (the pod does not start) rather than return null and let the pod start on a partial
   * catalogue.
   */
  async loadCatalogSnapshot(): Promise<LogSnapshot | null> {
    const stream = this.#names.catalogSnapshotStream;
    const report = (d: Diagnostic): void => this.#report(d);
    const snapshot = await this.#readOnce((channel) => readNewestSnapshot(channel, stream, this.#s.confirmTimeoutMs, report));
    if (snapshot !== null) return snapshot;
    const head = await this.firstOffset({ kind: 'catalog' });
    if (head !== null && head > 0) {
      throw brokerUnavailable(`The catalogue's records before offset ${head} were removed by retention and no snapshot of it could be read from ${stream}.`);
    }
    return null;
  }

  /**
   * Closes tails, the ingress consumer, lets in-flight confirms settle, then closes the
   * connection (without it looking like a drop). Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────

  /** Throws a 503 while shutting down or disconnected. */
  #assertWritable(): void {
    if (this.#closing !== null) throw brokerUnavailable('The service is shutting down.');
    if (this.#conn.state !== 'connected') {
      throw brokerUnavailable('The message broker is not connected.', this.#conn.lastCause);
    }
  }

  /**
   * Runs one read on a throwaway channel, closed afterwards. A stream that does not exist
   * (404, which also closes the channel) reads as null.
   */
  async #readOnce<T>(read: (channel: Channel) => Promise<T | null>): Promise<T | null> {
    this.#assertWritable();
    try {
      return await this.#onThrowawayChannel(read);
    } catch (err) {
      if (replyCodeOf(err) === AMQP_REPLY.NOT_FOUND) return null;
      throw toCoreError(err, 'Read failed.');
    }
  }

  /** Runs `work` on a channel of its own, closed afterwards (an error closes it too). */
  async #onThrowawayChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    let channel: Channel | null = null;
    try {
      channel = await this.#openChannel();
      channel.on('error', () => undefined);
      return await work(channel);
    } finally {
      if (channel !== null) await channel.close().catch(() => undefined);
    }
  }

  /**
   * Resolves when `stream` exists, without creating it: how a tail cancelled by the broker
   * re-registers (the stream was deleted with its queue, and must not come back because a
   * pod still reads it). Rejects with a 503 while it does not exist.
   */
  async #checkStream(stream: string): Promise<void> {
    try {
      await this.#onThrowawayChannel((channel) => channel.checkQueue(stream));
    } catch (err) {
      if (replyCodeOf(err) === AMQP_REPLY.NOT_FOUND) throw brokerUnavailable('The log does not exist (deleted with its queue).', err);
      throw err;
    }
  }

  async #shutdown(): Promise<void> {
    const steps: [string, () => Promise<void> | void][] = [
      ['ingress', () => this.#ingress.setHandler(null)],
      ['tails', () => this.#closeTails()],
      ['confirms', () => this.#settlePublisher()],
      ['connection', () => this.#closeConnection()],
    ];
    for (const [step, run] of steps) {
      try {
        await run();
      } catch (err) {
        this.#report({ type: 'close_step_failed', step, cause: describe(err) });
      }
    }
    this.#status = { type: 'down', cause: new Error('closed') };
    this.#statusListeners.clear();
    this.#diagnosticListeners.clear();
  }

  #closeTails(): void {
    for (const set of [...this.#tails.values()]) for (const tail of [...set]) tail.close();
    this.#tails.clear();
  }

  async #settlePublisher(): Promise<void> {
    const publisher = this.#publisher === null ? null : await this.#publisher.catch(() => null);
    if (publisher !== null) await publisher.settled(this.#s.confirmTimeoutMs);
  }

  async #closeConnection(): Promise<void> {
    this.#unwatchConn();
    const publisher = this.#publisher === null ? null : await this.#publisher.catch(() => null);
    publisher?.fail(new Error('closed'));
    this.#publisher = null;
    this.#streams.reset();
    await this.#conn.close();
  }

  async #setup(model: ChannelModel): Promise<void> {
    const open = async (): Promise<Channel> => {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      return channel;
    };
    await declarePublicTopology(open, this.#names, this.#s.ingress, (name, err) =>
      this.#report({ type: 'declaration_mismatch', name, cause: describe(err) }),
    );
    this.#model = model;
  }

  #onStateChange(change: StateChange): void {
    if (change.to === 'connected') {
      this.#setStatus({ type: 'up' });
      for (const set of this.#tails.values()) for (const tail of set) tail.attach();
      this.#ingress.attach();
      return;
    }
    if (change.from === 'connected') {
      this.#model = null;
      const publisher = this.#publisher;
      this.#publisher = null;
      this.#streams.reset();
      void publisher?.then((p) => p.fail(change.cause), () => undefined);
      for (const set of this.#tails.values()) for (const tail of set) tail.detach();
      this.#ingress.detach();
    }
    if (this.#status.type === 'up' || change.to === 'failed') {
      this.#setStatus(change.cause === undefined ? { type: 'down' } : { type: 'down', cause: change.cause });
    }
  }

  #setStatus(status: BackendStatus): void {
    const changed = status.type !== this.#status.type;
    this.#status = status;
    if (!changed) return;
    for (const listener of [...this.#statusListeners]) listener(status);
  }

  #report(d: Diagnostic): void {
    if (d.type === 'tail_cancelled') this.#cancelledStreams.add(d.stream);
    for (const listener of [...this.#diagnosticListeners]) {
      try {
        listener(d);
      } catch {
        // A faulty listener must not break the broker path.
      }
    }
  }

  #liveModel(): ChannelModel {
    const model = this.#model;
    if (model === null || this.#conn.state !== 'connected') {
      throw brokerUnavailable('The message broker is not connected.', this.#conn.lastCause);
    }
    return model;
  }

  async #openChannel(): Promise<Channel> {
    return this.#liveModel().createChannel();
  }

  /** The publisher of the current connection, created on first use and after a channel loss. */
  #getPublisher(): Promise<Publisher> {
    if (this.#publisher !== null) return this.#publisher;
    const model = this.#liveModel();
    const created = model.createConfirmChannel().then((channel) => {
      const publisher = new Publisher(channel, this.#s.confirmTimeoutMs);
      channel.on('error', () => undefined);
      channel.on('close', () => {
        publisher.fail(new Error('publisher channel closed'));
        if (this.#publisher === created) this.#publisher = null;
      });
      return publisher;
    });
    created.catch(() => {
      if (this.#publisher === created) this.#publisher = null;
    });
    this.#publisher = created;
    return created;
  }

  async #appendTo(stream: string, content: Buffer, rid: string): Promise<void> {
    await this.#streams.ensure(stream);
    await this.#nextTailsRegistered(stream);
    const headers = { 'x-zaqar-rid': rid };
    try {
      await this.#publishTimed(stream, content, headers);
    } catch (err) {
      if (err instanceof UnroutableError) {
        // Deleted since we declared it: with its queue (the writer saw the queue a moment before
        // another pod deleted it), or by an operator. Declaring it again here could bring back
        // the stream of a deleted queue, so refuse; the client's retry opens the queue afresh.
        this.#streams.forget(stream);
        throw brokerUnavailable('The queue was deleted while the write was in flight; retry.', err);
      }
      if (err instanceof ChannelLostError && this.#conn.state === 'connected') {
        // The channel died but the connection lives (RabbitMQ 3.10 can crash a channel that
        // publishes to a stream whose leader it has not learnt yet). Retry once on a new channel;
        // a duplicate, if the first write was stored after all, is dropped by the fold (`rid`).
        this.#report({ type: 'publish_retried', stream, cause: describe(err.cause) });
        await new Promise((resolve) => setTimeout(resolve, PUBLISH_RETRY_DELAY_MS));
      } else {
        throw err;
      }
      await this.#publishTimed(stream, content, headers);
    }
  }

  /** Publishes and tells {@link onPublishConfirmed} listeners how long the confirm took. */
  async #publishTimed(stream: string, content: Buffer, headers: Readonly<Record<string, string>>): Promise<void> {
    const publisher = await this.#getPublisher();
    const started = process.hrtime.bigint();
    await publisher.publish(stream, content, headers);
    if (this.#confirmListeners.size === 0) return;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const listener of this.#confirmListeners) listener(seconds);
  }

  /** Waits until every `next` tail of this stream has its consumer (see StreamTail.pendingNext). */
  async #nextTailsRegistered(stream: string): Promise<void> {
    const set = this.#tails.get(stream);
    if (set === undefined) return;
    const pending = [...set].filter((t) => t.pendingNext).map((t) => t.registered);
    if (pending.length > 0) await Promise.all(pending);
  }

  #forgetTail(tail: StreamTail): void {
    const set = this.#tails.get(tail.stream);
    if (set === undefined) return;
    set.delete(tail);
    if (set.size === 0) this.#tails.delete(tail.stream);
  }

  /**
   * Reads the stream's last chunk (`x-stream-offset: last`) on a throwaway consumer and gives
   * the highest offset in it: a chunk's records arrive together, so the deliveries that follow
   * the first within {@link LAST_CHUNK_MS} are the rest of it. Null when nothing comes within
   * `emptyProbeMs` (an empty stream).
   */
  async #probeLast(channel: Channel, stream: string): Promise<number | null> {
    await channel.checkQueue(stream);
    await channel.prefetch(LAST_CHUNK_PREFETCH, false);
    return new Promise<number | null>((resolve, reject) => {
      let highest: number | null = null;
      let timer = setTimeout(() => resolve(highest), this.#s.emptyProbeMs);
      channel
        .consume(
          stream,
          (msg) => {
            const offset = msg === null ? null : streamOffsetOf(msg);
            if (offset === null) return;
            if (highest === null) {
              clearTimeout(timer);
              timer = setTimeout(() => resolve(highest), LAST_CHUNK_MS);
            }
            highest = Math.max(highest ?? offset, offset);
          },
          { noAck: false, arguments: { 'x-stream-offset': 'last' } },
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  }

  async #probeFirst(channel: Channel, stream: string): Promise<number | null> {
    const info = await channel.checkQueue(stream);
    await channel.prefetch(1, false);
    const waitMs = info.messageCount > 0 ? this.#s.confirmTimeoutMs : this.#s.emptyProbeMs;
    return new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      channel
        .consume(
          stream,
          (msg) => {
            clearTimeout(timer);
            resolve(msg === null ? null : streamOffsetOf(msg));
          },
          { noAck: false, arguments: { 'x-stream-offset': 'first' } },
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  }
}
