/**
 * The common tail of the raw benchmark servers (baseline.ts, fanout-raw.ts): a fastify app for
 * REST and a plain `ws` server on its own port, both on loopback; SIGUSR2 runs a GC, SIGTERM
 * closes everything; the ports go to stdout as the `{"ready":…}` line bench/lib/child.ts reads.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Serves `app` and the ws server; `sockets` is kept as the set of open sockets. `onClose` runs
 * at SIGTERM after both servers closed, before the process exits.
 */
export async function serveRaw(
  app: FastifyInstance,
  sockets: Set<WebSocket>,
  onConnection: (s: WebSocket) => void,
  onClose: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    onConnection(s);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
  process.on('SIGTERM', () => {
    for (const s of sockets) s.terminate();
    void Promise.all([app.close(), new Promise((r) => http.close(r))])
      .then(onClose)
      .finally(() => process.exit(0));
  });
  const restPort = (app.server.address() as AddressInfo).port;
  const wsPort = (http.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ ready: true, restPort, wsPort })}\n`);
}
