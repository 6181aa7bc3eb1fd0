/**
 * A closed-loop HTTP load generator: `concurrency` keep-alive connections each send one request
 * after the other until `total` requests are done. Same client for bridge and baseline, so
 * the ratio measures the servers.
 *
 * The loops speak HTTP/1.1 over plain sockets (one request in flight per connection, no
 * pipelining), as wrk and autocannon do: on these 2 shared vCPUs the load generator competes
 * with the server it measures, and node:http's client cost 115–200 µs of CPU per request,
 * more than the server's own share of a post; this one costs ~50 µs, most of it building the
 * request body. `client: 'node'` (or BENCH_HTTP_CLIENT=node for every section) runs the same
 * loops through node:http instead.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly errors: number;
  /** Time of each measured request, from send to the end of the response (ms). */
  readonly latenciesMs: readonly number[];
}

export interface RequestSpec {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export function send(port: number, spec: RequestSpec, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: spec.method,
        path: spec.path,
        agent,
        headers: {
          ...(spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) }),
          ...spec.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (spec.body !== undefined) req.write(spec.body);
    req.end();
  });
}

/** The loops' HTTP client: plain sockets (the default), or node:http. */
export type HttpClient = 'raw' | 'node';

export async function load(
  port: number,
  next: (i: number) => RequestSpec,
  total: number,
  concurrency: number,
  /** Requests sent first and not measured, so a cold server (JIT, first declarations) is warm. */
  warmup = Math.min(500, Math.floor(total / 4)),
  client: HttpClient = process.env['BENCH_HTTP_CLIENT'] === 'node' ? 'node' : 'raw',
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const viaNode = client === 'node';
  const connections = viaNode ? [] : await Promise.all(Array.from({ length: concurrency }, () => RawConnection.open(port)));
  let issued = 0;
  let errors = 0;
  let latencies: number[] = [];
  const run = async (until: number): Promise<void> => {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, c) => {
        while (issued < until) {
          const i = issued++;
          const t0 = process.hrtime.bigint();
          try {
            const spec = next(i);
            const conn = connections[c];
            const status = conn === undefined ? (await send(port, spec, agent)).status : await conn.send(spec);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            if (status >= 400) errors++;
          } catch {
            errors++;
            if (!viaNode) connections[c] = await RawConnection.open(port);
          }
        }
      }),
    );
  };
  try {
    await run(warmup);
    errors = 0;
    latencies = [];
    const started = process.hrtime.bigint();
    await run(warmup + total);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { requests: total, seconds, perSecond: total / seconds, errors, latenciesMs: latencies };
  } finally {
    agent.destroy();
    for (const conn of connections) conn.close();
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection with at most one request in flight. Reads responses with
 * a Content-Length or none (204, 304); anything else (a chunked reply, a reply the server
 * closes) fails the request, and the caller opens a new connection.
 */
class RawConnection {
  #buffered: Buffer = Buffer.alloc(0);
  #waiting: { resolve(status: number): void; reject(e: Error): void } | null = null;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  send(spec: RequestSpec): Promise<number> {
    if (this.socket.destroyed) return Promise.reject(new Error('connection closed'));
    let head = `${spec.method} ${spec.path} HTTP/1.1\r\nhost: 127.0.0.1\r\n`;
    if (spec.body !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(spec.body)}\r\n`;
    for (const [k, v] of Object.entries(spec.headers ?? {})) head += `${k}: ${v}\r\n`;
    return new Promise<number>((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.socket.write(`${head}\r\n${spec.body ?? ''}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const end = this.#buffered.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffered.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null && status !== 204 && status !== 304) {
      this.#fail(new Error(`a response without content-length: ${head.split('\r\n')[0] ?? ''}`));
      this.socket.destroy();
      return;
    }
    const size = end + HEADER_END.length + Number(length?.[1] ?? 0);
    if (this.#buffered.length < size) return;
    if (this.#buffered.length > size) {
      this.#fail(new Error('bytes after the response to the only request in flight'));
      this.socket.destroy();
      return;
    }
    this.#buffered = Buffer.alloc(0);
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.resolve(status);
  }

  #fail(e: Error): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.reject(e);
  }
}
