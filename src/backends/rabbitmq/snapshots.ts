/**
 * Catalogue snapshots on RabbitMQ: a stream of their own (`<exchange>.catalog.snapshots`), each
 * message one gzipped JSON document `{"offset": n, "state": …}`. Written rarely (see the core's
 * snapshot policy), read once per pod start: from the stream's last chunk, which holds the
 * newest snapshot (two pods writing at once may share a chunk: the highest offset wins).
 *
 * The stream never loses its newest snapshot to retention: RabbitMQ never deletes the segment
 * being written.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { LogSnapshot } from '../../core/ports.js';
import type { Json } from '../../core/types.js';
import { streamOffsetOf } from './consumer.js';
import type { DiagnosticSink } from './diagnostics.js';

/** After the first snapshot delivered, how long without another before the read ends (ms). */
const CHUNK_QUIET_MS = 25;

export function encodeSnapshot(snapshot: LogSnapshot): Buffer {
  return gzipSync(Buffer.from(JSON.stringify({ offset: snapshot.offset, state: snapshot.state }), 'utf8'));
}

/** Decodes one snapshot message; null when it is not one. */
export function decodeSnapshot(content: Buffer): LogSnapshot | null {
  try {
    const doc = JSON.parse(gunzipSync(content).toString('utf8')) as Json;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return null;
    const { offset, state } = doc;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || state === undefined) return null;
    return { offset, state };
  } catch {
    return null;
  }
}

/**
 * Reads the newest snapshot of `stream` on `channel` (which the caller closes): the best of the
 * last chunk's messages. Null when nothing arrives within `waitMs` (RabbitMQ 3.10 reports no
 * message count for streams, so an empty stream and a slow one look alike: the caller decides
 * how long it can wait).
 */
export async function readNewestSnapshot(
  channel: Channel,
  stream: string,
  waitMs: number,
  report: DiagnosticSink,
): Promise<LogSnapshot | null> {
  await channel.checkQueue(stream);
  await channel.prefetch(16, false);
  return new Promise<LogSnapshot | null>((resolve, reject) => {
    let best: LogSnapshot | null = null;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(deadline);
      clearTimeout(quiet);
      resolve(best);
    };
    const deadline = setTimeout(finish, waitMs);
    const onMessage = (msg: ConsumeMessage | null): void => {
      if (msg === null) return;
      const snapshot = decodeSnapshot(msg.content);
      if (snapshot === null) {
        report({ type: 'record_skipped', stream, offset: streamOffsetOf(msg), reason: 'not a catalogue snapshot' });
      } else if (best === null || snapshot.offset > best.offset) {
        best = snapshot;
      }
      channel.ack(msg);
      clearTimeout(quiet);
      quiet = setTimeout(finish, CHUNK_QUIET_MS);
    };
    channel.consume(stream, onMessage, { noAck: false, arguments: { 'x-stream-offset': 'last' } }).catch((err: unknown) => {
      clearTimeout(deadline);
      clearTimeout(quiet);
      reject(err);
    });
  });
}
