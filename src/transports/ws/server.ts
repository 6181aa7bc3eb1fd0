/**
 * The Zaqar WebSocket server: its own HTTP server, `ws` in `noServer` mode (upgrade handled
 * here, any path and query accepted), one {@link Connection} per socket, a shared
 * {@link NotificationHub} and a ping/pong {@link Heartbeat}.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Limits } from '../../core/limits.js';
import type { ZaqarService } from '../../core/types.js';
import { Connection, type WsTelemetry } from './connection.js';
import type { Authenticator } from '../../auth/index.js';
import { Heartbeat } from './heartbeat.js';
import { NotificationHub } from './notifications.js';

/**
 * The default hard cap on an inbound frame: 16 MiB, or the post size limit + 64 KiB when that is
 * larger. Well above the post size on purpose: like the real Zaqar, an oversized `message_post`
 * (a 4 MiB one, say) is read and answered with the 400 "Message collection size is too large"
 * frame, and the socket stays usable; only a frame above this cap closes it with 1009, which
 * bounds the memory one connection can make the server hold.
 */
export function defaultMaxFrameBytes(maxMessagesPostSize: number): number {
  return Math.max(16 * 1024 * 1024, maxMessagesPostSize + 64 * 1024);
}

export interface WsDeps {
  service: ZaqarService;
  limits: Limits;
  logger: Logger;
  /** Hard cap on an inbound frame in bytes (larger → close 1009), default `defaultMaxFrameBytes`. */
  maxFrameBytes?: number;
  /** ms between ping frames, default 30000. */
  heartbeatIntervalMs?: number;
  /** Bytes of unsent data after which a slow subscriber is closed with 1008, default 4 MiB. */
  maxBufferedBytes?: number;
  /** Told of requests, notifications, cut-offs and replays (metrics). */
  telemetry?: WsTelemetry;
  /** Serve WSS: `listen` then needs the key and certificate. */
  tls?: boolean;
  /** Token verification; absent = noauth. */
  auth?: Authenticator;
  /** Secret of pre-signed URLs (with `auth`): signed message frames need no `authenticate`. */
  signedUrlKey?: string;
}

export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
}

export interface WsServer {
  /** Listens; resolves with the bound port (`0` picks a free one). */
  listen(port: number, host: string, tls?: TlsMaterial): Promise<number>;
  /** Closes every connection (1001), deletes their subscriptions, stops listening. Idempotent. */
  close(): Promise<void>;
  /** Open WebSocket connections. */
  readonly connectionCount: number;
}

const DEFAULT_HEARTBEAT_MS = 30_000;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** ms connections get to finish the closing handshake on shutdown before being destroyed. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Host part of the subscriber URL of websocket subscriptions (Zaqar: bind or hostname). */
function advertisedHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return hostname();
  return host.includes(':') ? `[${host}]` : host;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function createWsServer(deps: WsDeps): WsServer {
  const log = deps.logger;
  const maxBufferedBytes = deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const handlerDeps = {
    service: deps.service,
    limits: deps.limits,
    ...(deps.auth !== undefined ? { auth: deps.auth } : {}),
    ...(deps.signedUrlKey !== undefined ? { signedUrlKey: deps.signedUrlKey } : {}),
  };
  const hub = new NotificationHub(deps.service, log, deps.telemetry);
  const heartbeat = new Heartbeat(deps.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS);
  const open = new Set<Connection>();
  const finishing = new Set<Promise<void>>();
  const wss = new WebSocketServer({
    noServer: true,
    // Off, and must stay so while connections write notification frames beside `ws` (with
    // compression on, `ws` queues frames while it deflates, and the two would interleave).
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload: deps.maxFrameBytes ?? defaultMaxFrameBytes(deps.limits.maxMessagesPostSize),
  });
  const http = deps.tls === true ? createHttpsServer({}, onPlainRequest) : createServer(onPlainRequest);
  let notifyBase = 'http://localhost:0';
  let closing: Promise<void> | null = null;

  function onPlainRequest(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'Upgrade' });
    res.end('Upgrade Required');
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err }, 'ws: upgrade socket error'));
    if (closing !== null) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket));
  });

  function accept(socket: WebSocket, raw: Duplex): void {
    const id = randomUUID();
    const logger = log.child({ connId: id });
    const conn = new Connection({
      id,
      socket,
      rawSocket: raw,
      deps: handlerDeps,
      hub,
      logger,
      subscriberUrl: `${notifyBase}/${id}`,
      maxBufferedBytes,
      ...(deps.telemetry === undefined ? {} : { telemetry: deps.telemetry }),
    });
    open.add(conn);
    heartbeat.add(socket);
    socket.on('pong', () => heartbeat.pong(socket));
    socket.once('close', () => {
      open.delete(conn);
      heartbeat.remove(socket);
    });
    const done = conn.done.finally(() => finishing.delete(done));
    finishing.add(done);
    logger.debug('ws: connection opened');
  }

  async function listen(port: number, host: string, tls?: TlsMaterial): Promise<number> {
    if (deps.tls === true) {
      if (tls === undefined) throw new Error('a TLS WebSocket server needs its key and certificate');
      (http as HttpsServer).setSecureContext({ key: tls.key, cert: tls.cert });
    }
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const bound = (http.address() as AddressInfo).port;
    notifyBase = `http://${advertisedHost(host)}:${bound}`;
    heartbeat.start();
    log.info({ host, port: bound }, 'ws: listening');
    return bound;
  }

  async function shutdown(): Promise<void> {
    heartbeat.stop();
    for (const conn of open) conn.shutdown(1001, 'Server shutting down');
    const drained = Promise.allSettled([...finishing]);
    await Promise.race([drained, delay(CLOSE_TIMEOUT_MS)]);
    for (const conn of open) conn.terminate();
    await Promise.race([Promise.allSettled([...finishing]), delay(CLOSE_TIMEOUT_MS)]);
    hub.close();
    wss.close();
    if (!http.listening) return;
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  }

  return {
    listen,
    close: () => (closing ??= shutdown()),
    get connectionCount() {
      return open.size;
    },
  };
}
