/**
 * The RabbitMQ floor of the fan-out benchmark (bench/fanout.ts): what any bridge-like server
 * must do at least to fan out through a stream. A REST post publishes one record (its messages
 * and a request id) with a publisher confirm to one stream; one stream consumer on the same
 * connection (bench/extra.ts tailRawStream) reads every record back, serializes each message ONCE and writes that Buffer to
 * every open socket; the post is answered once its record is both confirmed and read back (the
 * bridge's read-your-writes rule). No fold, no Zaqar semantics, no catalogue, one queue.
 *
 * It shows how much of the bridge's distance to the raw `ws` floor (fanout-raw.ts) is the
 * broker's: the round trip, and the broker's share of the machine's CPUs. RABBITMQ_URL names
 * the broker; the stream is deleted at SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { WebSocket } from 'ws';
import { openRawStream, tailRawStream } from '../extra.js';
import { serveRaw } from './serve.js';

interface PostRecord {
  readonly rid: string;
  readonly queue: string;
  readonly messages: readonly { readonly body: unknown; readonly ttl?: number }[];
}

const url = process.env['RABBITMQ_URL'];
if (url === undefined || url === '') throw new Error('fanout-raw-rabbitmq needs RABBITMQ_URL');
const { conn, ch, stream } = await openRawStream(url, 'fanout');
const sockets = new Set<WebSocket>();
/** A post waits for both: its confirm and its record read back. */
const waiting = new Map<string, { confirmed: boolean; readBack: boolean; done: () => void }>();
const settle = (rid: string, part: 'confirmed' | 'readBack'): void => {
  const w = waiting.get(rid);
  if (w === undefined) return;
  w[part] = true;
  if (w.confirmed && w.readBack) {
    waiting.delete(rid);
    w.done();
  }
};

await tailRawStream(conn, stream, 1000, (msg) => {
  const rec = JSON.parse(msg.content.toString('utf8')) as PostRecord;
  for (const m of rec.messages) {
    const frame = Buffer.from(JSON.stringify({ ttl: m.ttl ?? 3600, body: m.body, Message_Type: 'Notification', queue_name: rec.queue }));
    for (const s of sockets) s.send(frame);
  }
  settle(rec.rid, 'readBack');
});

const app = Fastify({ logger: false });
const ok = Buffer.from(JSON.stringify({ request: {}, body: {}, headers: { status: 201 } }));

app.post<{ Params: { q: string }; Body: { messages: { body: unknown; ttl?: number }[] } }>('/v2/queues/:q/messages', async (req, reply) => {
  const rid = randomUUID();
  const ids = req.body.messages.map(() => randomUUID());
  const record: PostRecord = { rid, queue: req.params.q, messages: req.body.messages };
  await new Promise<void>((resolve, reject) => {
    waiting.set(rid, { confirmed: false, readBack: false, done: resolve });
    ch.sendToQueue(stream, Buffer.from(JSON.stringify(record)), { persistent: true }, (err) => {
      if (err !== null && err !== undefined) {
        waiting.delete(rid);
        reject(err instanceof Error ? err : new Error(String(err)));
      } else settle(rid, 'confirmed');
    });
  });
  return reply.code(201).send({ resources: ids.map((id) => `/v2/queues/${req.params.q}/messages/${id}`) });
});

await serveRaw(
  app,
  sockets,
  (s) => {
    s.on('message', () => s.send(ok));
  },
  async () => {
    await ch.deleteQueue(stream).catch(() => undefined);
    await conn.close().catch(() => undefined);
  },
);
