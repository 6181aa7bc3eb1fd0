/**
 * Lazy stream declaration: each stream is declared once per connection (single-flight per
 * name) on a shared declaration channel that is recreated when a refused declaration closes it.
 */
import type { Channel, ChannelModel } from 'amqplib';
import type { DiagnosticSink } from './diagnostics.js';
import { AMQP_REPLY, brokerUnavailable, describe, replyCodeOf } from './errors.js';
import { streamArguments } from './topology.js';
import type { StreamSettings, TopologyNames } from './topology.js';

export interface StreamDeclarerContext {
  readonly names: TopologyNames;
  readonly settings: StreamSettings;
  /** Wait after declaring a stream that reports no messages, ms (see {@link StreamDeclarer.ensure}). */
  readonly settleMs: number;
  /** The live connection; throws a 503 while disconnected. */
  liveModel(): ChannelModel;
  readonly report: DiagnosticSink;
}

/** Declares streams for one backend; {@link reset} on every connection loss. */
export class StreamDeclarer {
  readonly #ctx: StreamDeclarerContext;
  #channel: Promise<Channel> | null = null;
  #declared = new Map<string, Promise<void>>();

  constructor(ctx: StreamDeclarerContext) {
    this.#ctx = ctx;
  }

  /**
   * Resolves once `stream` exists (declared with our arguments, or already there with others:
   * reported as `declaration_mismatch` and used as it is). A 404 (the stream's node is still
   * recovering) rejects with a 503.
   */
  ensure(stream: string): Promise<void> {
    const known = this.#declared.get(stream);
    if (known !== undefined) return known;
    const declared = this.#declare(stream);
    const map = this.#declared;
    map.set(stream, declared);
    declared.catch(() => {
      if (map.get(stream) === declared) map.delete(stream);
    });
    return declared;
  }

  /** Forgets that `stream` was declared (it was deleted behind our back). */
  forget(stream: string): void {
    this.#declared.delete(stream);
  }

  /** Forgets everything of the previous connection. */
  reset(): void {
    this.#channel = null;
    this.#declared = new Map();
  }

  /** A channel for declarations, recreated after a declaration error closed it. */
  #getChannel(): Promise<Channel> {
    if (this.#channel !== null) return this.#channel;
    const created = this.#ctx
      .liveModel()
      .createChannel()
      .then((channel) => {
        channel.on('error', () => undefined);
        channel.on('close', () => {
          if (this.#channel === created) this.#channel = null;
        });
        return channel;
      });
    created.catch(() => {
      if (this.#channel === created) this.#channel = null;
    });
    this.#channel = created;
    return created;
  }

  async #declare(stream: string): Promise<void> {
    const { catalogStream, catalogSnapshotStream } = this.#ctx.names;
    const kind = stream === catalogStream ? 'catalog' : stream === catalogSnapshotStream ? 'snapshots' : 'queue';
    const args = streamArguments(this.#ctx.settings, kind);
    try {
      const channel = await this.#getChannel();
      const ok = await channel.assertQueue(stream, { durable: true, arguments: args });
      // RabbitMQ 3.10 sets a new stream's leader in its queue record shortly after declare-ok;
      // a channel that publishes to it before then crashes (osiris_writer:write(none, …)) and
      // takes the whole connection down. A stream that reports messages is old enough; one that
      // reports none may be brand new (the count lags), so let it settle before the first write.
      if (ok.messageCount === 0) await new Promise((resolve) => setTimeout(resolve, this.#ctx.settleMs));
    } catch (err) {
      // An active declare never answers "no such queue": a 404 means the stream's home node is
      // "down or inaccessible" (the broker is still recovering it), which is transient.
      if (replyCodeOf(err) === AMQP_REPLY.NOT_FOUND) throw brokerUnavailable('The log is not available yet.', err);
      if (replyCodeOf(err) !== AMQP_REPLY.PRECONDITION_FAILED) throw err;
      // Declared earlier with other retention settings: keep using it as it is.
      this.#ctx.report({ type: 'declaration_mismatch', name: stream, cause: describe(err) });
      const channel = await this.#getChannel();
      await channel.checkQueue(stream);
    }
  }
}
