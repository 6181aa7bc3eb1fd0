/**
 * The raw `ws` floor of the fan-out benchmark (bench/fanout.ts): a REST post endpoint (fastify,
 * as the bridge and bench/servers/baseline.ts) whose handler serializes each message ONCE into a
 * Buffer and writes that same buffer to every open socket. No storage, no Zaqar semantics, no
 * per-subscription bookkeeping: the least work a Node `ws` server can do per delivery.
 *
 * (baseline.ts broadcasts a string, which `ws` encodes again for every socket; this one does
 * not, so it is the stricter floor.) Every inbound frame is answered with a 201, so clients can
 * run the same queue_create / subscription_create round trips as against the bridge.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { WebSocket } from 'ws';
import { serveRaw } from './serve.js';

const sockets = new Set<WebSocket>();
const app = Fastify({ logger: false });
const ok = Buffer.from(JSON.stringify({ request: {}, body: {}, headers: { status: 201 } }));

app.post<{ Params: { q: string }; Body: { messages: { body: unknown; ttl?: number }[] } }>('/v2/queues/:q/messages', async (req, reply) => {
  const ids: string[] = [];
  for (const m of req.body.messages) {
    const id = randomUUID();
    ids.push(id);
    const frame = Buffer.from(JSON.stringify({ ttl: m.ttl ?? 3600, body: m.body, Message_Type: 'Notification', queue_name: req.params.q }));
    for (const s of sockets) s.send(frame);
  }
  return reply.code(201).send({ resources: ids.map((id) => `/v2/queues/${req.params.q}/messages/${id}`) });
});

await serveRaw(app, sockets, (s) => {
  s.on('message', () => s.send(ok));
});
