/**
 * Names and declarations of everything the RabbitMQ backend puts on the broker.
 *
 * For an exchange named `zaqar` (the default):
 *
 * | object | name | kind |
 * |---|---|---|
 * | public topic exchange (workflows publish here) | `zaqar` | topic, durable |
 * | ingress queue, bound to `zaqar` with `#` | `zaqar.ingress` | quorum (or classic), durable |
 * | dead letters of the ingress | exchange `zaqar.dead` → queue `zaqar.ingress.dead` | fanout / same type as ingress, 14 days, 100,000 messages |
 * | catalogue log | `zaqar.catalog` | stream |
 * | catalogue snapshots | `zaqar.catalog.snapshots` | stream |
 * | queue log of `{project, queue}` | `zaqar.q.<esc(project)>.<esc(queue)>` | stream |
 *
 * Streams are written through the default exchange (routing key = stream name) and are never
 * bound to the public exchange: foreign messages enter through the ingress so the core can
 * validate them and give them ids first (see ingress.ts).
 */
import { createHash } from 'node:crypto';
import type { Channel } from 'amqplib';
import type { LogRef } from '../../core/ports.js';
import { AMQP_REPLY, replyCodeOf } from './errors.js';

/** Longest AMQP queue name / routing key, in bytes (a `shortstr`). */
export const AMQP_NAME_MAX_BYTES = 255;

/** Longest exchange name we accept, so every derived name fits in {@link AMQP_NAME_MAX_BYTES}. */
export const EXCHANGE_NAME_MAX_LENGTH = 100;

/** Names derived from the exchange name. */
export interface TopologyNames {
  readonly exchange: string;
  readonly ingressQueue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
  readonly catalogStream: string;
  readonly catalogSnapshotStream: string;
  readonly queueStreamPrefix: string;
}

/** Derives every broker name from the exchange name. Throws `TypeError` for an unusable name. */
export function topologyNames(exchange: string): TopologyNames {
  if (exchange.length === 0 || exchange.length > EXCHANGE_NAME_MAX_LENGTH || exchange.startsWith('amq.')) {
    throw new TypeError(`exchange must be 1..${EXCHANGE_NAME_MAX_LENGTH} characters and not start with "amq."`);
  }
  return {
    exchange,
    ingressQueue: `${exchange}.ingress`,
    deadLetterExchange: `${exchange}.dead`,
    deadLetterQueue: `${exchange}.ingress.dead`,
    catalogStream: `${exchange}.catalog`,
    catalogSnapshotStream: `${exchange}.catalog.snapshots`,
    queueStreamPrefix: `${exchange}.q.`,
  };
}

const SAFE_STREAM_CHAR = /[A-Za-z0-9_-]/;

/**
 * Escapes one name part of a stream name: ASCII letters, digits, `_` and `-` stay, every other
 * UTF-8 byte becomes `%XX` (upper-case hex). `.` (our separator) and `%` are therefore always
 * escaped, which makes `<esc(project)>.<esc(queue)>` injective.
 */
export function escapeStreamPart(part: string): string {
  let out = '';
  for (const ch of part) {
    if (SAFE_STREAM_CHAR.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The stream holding a log. Queue streams are `<prefix><esc(project)>.<esc(queue)>`; when that
 * exceeds 255 bytes (projects may be 256 characters), the name becomes
 * `<prefix>~<sha256(project NUL queue) in hex>`: `~` never appears in an escaped part, so the two
 * forms cannot collide, and every pod derives the same name.
 */
export function streamNameOf(names: TopologyNames, log: LogRef): string {
  if (log.kind === 'catalog') return names.catalogStream;
  const readable = `${names.queueStreamPrefix}${escapeStreamPart(log.project)}.${escapeStreamPart(log.queue)}`;
  if (Buffer.byteLength(readable, 'utf8') <= AMQP_NAME_MAX_BYTES) return readable;
  const digest = createHash('sha256').update(log.project, 'utf8').update('\0').update(log.queue, 'utf8').digest('hex');
  return `${names.queueStreamPrefix}~${digest}`;
}

/**
 * The routing key a workflow uses to publish to queue `queue` of project `project` on the public
 * exchange: `<project>.<queue>`, where the project has `%` written `%25` and `.` written `%2E`
 * (so the first `.` always separates project from queue; queue names may contain dots and are
 * written as they are). Returns null when the key would exceed 255 bytes (such a queue can only be
 * posted to over REST/WebSocket).
 */
export function routingKeyOf(project: string, queue: string): string | null {
  const key = `${project.replaceAll('%', '%25').replaceAll('.', '%2E')}.${queue}`;
  return Buffer.byteLength(key, 'utf8') <= AMQP_NAME_MAX_BYTES ? key : null;
}

/**
 * Reads a routing key of the public exchange back into project and queue (inverse of
 * {@link routingKeyOf}; `%XX` escapes in the project are decoded case-insensitively). Returns null
 * when there is no `.`, either side is empty, or the project's escapes are not valid UTF-8.
 * The queue name itself is validated by the core.
 */
export function parseRoutingKey(routingKey: string): { project: string; queue: string } | null {
  const dot = routingKey.indexOf('.');
  if (dot <= 0 || dot === routingKey.length - 1) return null;
  let project: string;
  try {
    project = decodeURIComponent(routingKey.slice(0, dot));
  } catch {
    return null;
  }
  if (project.length === 0) return null;
  return { project, queue: routingKey.slice(dot + 1) };
}

/** Retention and segment settings of the streams. */
export interface StreamSettings {
  /** `x-max-age` of queue streams, seconds. */
  readonly retentionSeconds: number;
  /** `x-max-age` of the catalogue stream, seconds; null keeps it forever. */
  readonly catalogRetentionSeconds: number | null;
  /** `x-max-length-bytes` of the catalogue's snapshot stream. */
  readonly snapshotRetentionBytes: number;
  /** `x-stream-max-segment-size-bytes`. Retention drops whole segments only. */
  readonly segmentBytes: number;
  /** `x-initial-cluster-size` (replicas on a cluster); null: the broker's default. */
  readonly clusterSize?: number | null;
}

/** Which kind of stream a declaration is for. */
export type StreamKind = 'queue' | 'catalog' | 'snapshots';

/**
 * The `x-arguments` of a stream declaration. Every pod must use the same values (else 406).
 *
 * The snapshot stream is bounded by size, never by age: RabbitMQ applies an age limit even while
 * nothing is written, and a snapshot larger than a segment closes its segment at once, so an
 * age limit could delete the newest snapshot of a deployment stopped for longer than the limit.
 */
export function streamArguments(settings: StreamSettings, kind: StreamKind): Record<string, string | number> {
  const args: Record<string, string | number> = {
    'x-queue-type': 'stream',
    'x-stream-max-segment-size-bytes': settings.segmentBytes,
  };
  if (settings.clusterSize !== undefined && settings.clusterSize !== null) args['x-initial-cluster-size'] = settings.clusterSize;
  if (kind === 'snapshots') {
    args['x-max-length-bytes'] = settings.snapshotRetentionBytes;
    return args;
  }
  const age = kind === 'catalog' ? settings.catalogRetentionSeconds : settings.retentionSeconds;
  if (age !== null) args['x-max-age'] = `${age}s`;
  return args;
}

/** Foreign messages the ingress refused are kept this long for the operator (ms): 14 days. */
export const DEAD_LETTER_TTL_MS = 14 * 86_400_000;
/** …and at most this many (the oldest go first). */
export const DEAD_LETTER_MAX_LENGTH = 100_000;

/**
 * The dead-letter queue of the ingress keeps refused messages for the operator, bounded by age
 * and count so that a producer stuck on a bad message cannot fill the broker's disk.
 */
export function deadLetterArguments(queueType: 'quorum' | 'classic'): Record<string, string | number> {
  return {
    'x-queue-type': queueType,
    'x-message-ttl': DEAD_LETTER_TTL_MS,
    'x-max-length': DEAD_LETTER_MAX_LENGTH,
    'x-overflow': 'drop-head',
  };
}

/** Ingress queue settings. */
export interface IngressSettings {
  readonly queueType: 'quorum' | 'classic';
  /** Quorum only: deliveries after which a message requeued again and again is dead-lettered. */
  readonly deliveryLimit: number;
}

/**
 * Declares the public exchange, the dead-letter exchange and queue, and the ingress queue bound
 * with `#`. Run on every new connection (setup function). `assert` is the active declaration;
 * an object declared differently (406: an operator, or an older version with other limits) is
 * reported, checked passively on a new channel (the 406 closed the old one), and used as it
 * is: the declarations and bindings after it still run.
 */
export async function declarePublicTopology(
  open: () => Promise<Channel>,
  names: TopologyNames,
  ingress: IngressSettings,
  onMismatch: (name: string, err: unknown) => void,
): Promise<void> {
  let channel = await open();
  const declare = async (name: string, active: (ch: Channel) => Promise<unknown>, passive: (ch: Channel) => Promise<unknown>): Promise<void> => {
    try {
      await active(channel);
    } catch (err) {
      if (replyCodeOf(err) !== AMQP_REPLY.PRECONDITION_FAILED) throw err;
      onMismatch(name, err);
      channel = await open();
      await passive(channel);
    }
  };
  const exchange = (name: string, type: string) =>
    declare(name, (ch) => ch.assertExchange(name, type, { durable: true }), (ch) => ch.checkExchange(name));
  const queue = (name: string, args: Record<string, string | number>) =>
    declare(name, (ch) => ch.assertQueue(name, { durable: true, arguments: args }), (ch) => ch.checkQueue(name));

  await exchange(names.exchange, 'topic');
  await exchange(names.deadLetterExchange, 'fanout');
  await queue(names.deadLetterQueue, deadLetterArguments(ingress.queueType));
  await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, '');
  const args: Record<string, string | number> = {
    'x-queue-type': ingress.queueType,
    'x-dead-letter-exchange': names.deadLetterExchange,
  };
  if (ingress.queueType === 'quorum') args['x-delivery-limit'] = ingress.deliveryLimit;
  await queue(names.ingressQueue, args);
  await channel.bindQueue(names.ingressQueue, names.exchange, '#');
  await channel.close();
}
