/**
 * The baseline: the same wire shapes with no Zaqar semantics and no storage — fastify
 * answering posts and lists from a plain array, and a raw `ws` server broadcasting each post
 * to every socket. The bridge's numbers are reported as ratios to these.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { WebSocket } from 'ws';
import { serveRaw } from './serve.js';

const messages: { id: string; body: unknown; ttl: number }[] = [];
const sockets = new Set<WebSocket>();
const app = Fastify({ logger: false });

app.post<{ Params: { q: string }; Body: { messages: { body: unknown; ttl?: number }[] } }>(
  '/v2/queues/:q/messages',
  async (req, reply) => {
    const ids: string[] = [];
    for (const m of req.body.messages) {
      const id = randomUUID();
      const ttl = m.ttl ?? 3600;
      messages.push({ id, body: m.body, ttl });
      ids.push(id);
      const frame = JSON.stringify({ ttl, body: m.body, Message_Type: 'Notification', queue_name: req.params.q });
      for (const s of sockets) s.send(frame);
    }
    return reply.code(201).send({ resources: ids.map((id) => `/v2/queues/${req.params.q}/messages/${id}`) });
  },
);
app.get<{ Params: { q: string } }>('/v2/queues/:q/messages', async (req) => ({
  messages: messages.slice(-10).map((m) => ({ ...m, href: `/v2/queues/${req.params.q}/messages/${m.id}`, age: 0 })),
  links: [],
}));

await serveRaw(app, sockets, (s) => {
  // Answer any request frame with a 201, so subscribe round trips cost the same shape.
  s.on('message', () => s.send(JSON.stringify({ request: {}, body: {}, headers: { status: 201 } })));
});
