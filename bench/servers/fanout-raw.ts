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
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';

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

await app.listen({ port: 0, host: '127.0.0.1' });
const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  s.on('message', () => s.send(ok));
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
