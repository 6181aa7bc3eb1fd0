/**
 * The baseline: the same wire shapes with no Zaqar semantics and no storage — fastify
 * answering posts and lists from a plain array, and a raw `ws` server broadcasting each post
 * to every socket. The bridge's numbers are reported as ratios to these.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';

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

await app.listen({ port: 0, host: '127.0.0.1' });
const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  // Answer any request frame with a 201, so subscribe round trips cost the same shape.
  s.on('message', () => s.send(JSON.stringify({ request: {}, body: {}, headers: { status: 201 } })));
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
process.on('SIGTERM', () => {
  for (const s of sockets) s.terminate();
  void Promise.all([app.close(), new Promise((r) => http.close(r))]).finally(() => process.exit(0));
});
const restPort = (app.server.address() as AddressInfo).port;
const wsPort = (http.address() as AddressInfo).port;
process.stdout.write(`${JSON.stringify({ ready: true, restPort, wsPort })}\n`);
