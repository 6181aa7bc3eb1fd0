/**
 * A closed-loop HTTP load generator: `concurrency` keep-alive loops each send one request
 * after the other until `total` requests are done. Same client for bridge and baseline, so
 * the ratio measures the servers.
 */
import { Agent, request } from 'node:http';

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

export async function load(
  port: number,
  next: (i: number) => RequestSpec,
  total: number,
  concurrency: number,
  /** Requests sent first and not measured, so a cold server (JIT, first declarations) is warm. */
  warmup = Math.min(500, Math.floor(total / 4)),
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let issued = 0;
  let errors = 0;
  let latencies: number[] = [];
  const run = async (until: number): Promise<void> => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (issued < until) {
          const i = issued++;
          const t0 = process.hrtime.bigint();
          try {
            const r = await send(port, next(i), agent);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            if (r.status >= 400) errors++;
          } catch {
            errors++;
          }
        }
      }),
    );
  };
  await run(warmup);
  errors = 0;
  latencies = [];
  const started = process.hrtime.bigint();
  await run(warmup + total);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { requests: total, seconds, perSecond: total / seconds, errors, latenciesMs: latencies };
}
