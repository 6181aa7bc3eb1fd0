/**
 * WebSocket fan-out (issue 11 §2, and the raw-ws baseline of §4): one queue, N subscribers,
 * the bridge (memory backend, and RabbitMQ when RABBITMQ_URL is set) against a raw `ws` server
 * that serializes each message once and writes the same buffer to every socket
 * (bench/servers/fanout-raw.ts), and with RABBITMQ_URL also against the same fan-out through
 * one stream (bench/servers/fanout-raw-rabbitmq.ts). Measured in alternating rounds, one server per target and
 * round, growing the same set of subscribers:
 *
 *   100 subscribers    saturation, then post → notify latency at 200 posts/s
 *   1,000 subscribers  saturation, then post → notify latency at 20 posts/s
 *   5,000 subscribers  saturation
 *   10,000 subscribers (BENCH_FANOUT_10K=1) post → notify latency, 20 posts one at a time
 *                      (the pattern of bench/many.ts)
 *
 * Subscribers are what a TripleO UI does: open a socket, `queue_create`, `subscription_create`
 * (each waiting for its answer); every frame they receive is parsed and the send timestamp the
 * poster put in the message body is read from it (bench/fanout-subscribers.ts). They are spread
 * over BENCH_FANOUT_CLIENTS (default 2) subscriber processes, so one load-generator event loop
 * parsing every frame one after another does not set the latency floor; the server runs in its
 * own child process (bench/lib/child.ts) as in the other sections, the poster in this one.
 *
 * Saturation is a closed loop bounded by delivery, not by HTTP: at most WINDOW messages are
 * "open" (posted but not yet received by every subscriber), so no socket ever holds more than
 * WINDOW frames and the bridge's slow-consumer cut (WS_MAX_BUFFERED_BYTES) never fires. The
 * load generator shares the two CPUs with the server and parses every frame, so it can be the
 * bottleneck; the server's own CPU time over the window is read from /proc and reported with
 * "deliveries per server CPU-second", the number to compare when the server was not at 100 %.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { FromSubscribers, ToSubscribers } from './fanout-subscribers.js';
import { cpuSeconds, requestGc, startServer, type RunningServer } from './lib/child.js';
import { send } from './lib/http-load.js';
import { fmt, median, percentile, type Row } from './lib/stats.js';
import { workflowBody } from './scenarios.js';

const HEADERS = { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench' };
/** Messages posted but not yet received by every subscriber, during saturation. */
const WINDOW = Number(process.env['BENCH_FANOUT_WINDOW'] ?? 16);
/** POSTs in flight at once during saturation. */
const POSTERS = Number(process.env['BENCH_FANOUT_POSTERS'] ?? WINDOW);
const SAT_SECONDS = Number(process.env['BENCH_FANOUT_SECONDS'] ?? 4);
const WARM_SECONDS = 1.5;
/** Subscriber processes the sockets are spread over. */
const CLIENTS = Number(process.env['BENCH_FANOUT_CLIENTS'] ?? 2);
const SUBSCRIBER_SCRIPT = fileURLToPath(new URL('./fanout-subscribers.js', import.meta.url));

export interface FanoutTarget {
  readonly name: string;
  readonly script: string;
  readonly env: Record<string, string>;
  /** The raw ws floor the ratios are taken against. */
  readonly raw: boolean;
}

export interface FanoutOptions {
  readonly targets: readonly FanoutTarget[];
  readonly rounds: number;
  readonly sizes: readonly number[];
  readonly with10k: boolean;
  readonly log: (line: string) => void;
}

export interface FanoutSection {
  readonly title: string;
  readonly rows: Row[];
  readonly note: string;
}

interface Saturation {
  readonly deliveriesPerSecond: number;
  /** Server CPU over the window, in cores (1 = one core fully busy). */
  readonly serverCores: number;
  /** Poster + subscriber processes, in cores. */
  readonly clientCores: number;
  readonly deliveriesPerServerCpuSecond: number;
  readonly lost: number;
}

interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly deliveries: number;
  readonly expected: number;
}

interface RoundResult {
  readonly saturation: Map<number, Saturation>;
  readonly latency: Map<string, Latency>;
}

/** CLOCK_MONOTONIC in ms: the same clock in the subscriber processes. */
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The subscriber processes (bench/fanout-subscribers.ts) and their sockets. */
class Subscribers {
  readonly #procs: ChildProcess[];
  readonly #waiters: { resolve: (m: FromSubscribers) => void; reject: (e: Error) => void }[][];
  onDone: ((seq: number) => void) | null = null;
  total = 0;

  private constructor(procs: ChildProcess[]) {
    this.#procs = procs;
    this.#waiters = procs.map(() => []);
    procs.forEach((p, i) => {
      p.on('message', (m: FromSubscribers) => {
        if (m.op === 'done') {
          this.onDone?.(m.seq);
          return;
        }
        const w = this.#waiters[i]?.shift();
        if (m.op === 'error') w?.reject(new Error(`subscriber process: ${m.message}`));
        else w?.resolve(m);
      });
      p.on('exit', (code) => {
        for (const w of this.#waiters[i]?.splice(0) ?? []) w.reject(new Error(`subscriber process exited with ${code}`));
      });
    });
  }

  static start(count: number): Subscribers {
    return new Subscribers(Array.from({ length: count }, () => fork(SUBSCRIBER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
  }

  get processes(): number {
    return this.#procs.length;
  }

  #ask(i: number, m: ToSubscribers): Promise<FromSubscribers> {
    return new Promise((resolve, reject) => {
      this.#waiters[i]?.push({ resolve, reject });
      this.#procs[i]?.send(m);
    });
  }

  #all(m: ToSubscribers | ((i: number) => ToSubscribers)): Promise<FromSubscribers[]> {
    return Promise.all(this.#procs.map((_, i) => this.#ask(i, typeof m === 'function' ? m(i) : m)));
  }

  /** Fire-and-forget to all (IPC is ordered; a following `count` acknowledges it). */
  #tell(m: ToSubscribers): void {
    for (const p of this.#procs) p.send(m);
  }

  async growTo(total: number, port: number, queue: string): Promise<void> {
    const k = this.#procs.length;
    const replies = await this.#all((i) => ({ op: 'grow', count: Math.floor(total / k) + (i < total % k ? 1 : 0), port, queue }));
    let closed = 0;
    for (const r of replies) if (r.op === 'grown') closed += r.closed;
    if (closed > 0) throw new Error(`${closed} subscribers were closed by the server`);
    this.total = total;
  }

  async count(): Promise<number> {
    const replies = await this.#all({ op: 'count' });
    return replies.reduce((a, r) => a + (r.op === 'count' ? r.deliveries : 0), 0);
  }

  async saturate(seqBase: number): Promise<void> {
    this.#tell({ op: 'saturate', seqBase });
    await this.count();
  }

  async latency(seqBase: number, count: number): Promise<void> {
    this.#tell({ op: 'latency', seqBase, count });
    await this.count();
  }

  async collect(): Promise<{ samples: number[]; closed: number }> {
    const replies = await this.#all({ op: 'collect' });
    const samples: number[] = [];
    let closed = 0;
    for (const r of replies) {
      if (r.op !== 'samples') continue;
      for (const x of r.samples) samples.push(x);
      closed += r.closed;
    }
    return { samples, closed };
  }

  async cpuSeconds(): Promise<number> {
    const xs = await Promise.all(this.#procs.map((p) => cpuSeconds(p.pid)));
    return xs.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#procs.map(async (p, i) => {
        if (p.exitCode !== null || !p.connected) return;
        const exited = new Promise((r) => p.once('exit', r));
        try {
          await Promise.race([this.#ask(i, { op: 'close' }), sleep(10_000)]);
        } catch {
          // exited already
        }
        if (p.exitCode === null) p.kill('SIGTERM');
        await exited;
      }),
    );
  }
}

function postBody(seq: number): string {
  return JSON.stringify({ messages: [{ body: workflowBody(seq, { seq, t: nowMs() }), ttl: 300 }] });
}

async function settle(server: RunningServer): Promise<void> {
  requestGc(server);
  await sleep(500);
}

/** Deliveries per second with at most WINDOW undelivered messages, POSTERS posts in flight. */
async function saturate(server: RunningServer, subs: Subscribers, queue: string): Promise<Saturation> {
  const k = subs.processes;
  const seqBase = Math.floor(Math.random() * 1e9);
  const done: number[] = [];
  let posted = 0;
  let complete = 0;
  let inFlight = 0;
  let running = true;
  let errors = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: POSTERS });
  const pump = (): void => {
    while (running && inFlight < POSTERS && posted - complete < WINDOW) {
      const seq = seqBase + posted++;
      done.push(0);
      inFlight++;
      send(server.restPort, { method: 'POST', path: `/v2/queues/${queue}/messages`, headers: HEADERS, body: postBody(seq) }, agent)
        .then(
          (r) => {
            if (r.status !== 201) errors++;
          },
          () => errors++,
        )
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };
  subs.onDone = (seq) => {
    const i = seq - seqBase;
    const c = (done[i] ?? 0) + 1;
    done[i] = c;
    if (c === k) {
      complete++;
      pump();
    }
  };
  await subs.saturate(seqBase);
  pump();
  await sleep(WARM_SECONDS * 1000);
  const [d0, cpu0, sub0] = await Promise.all([subs.count(), cpuSeconds(server.child.pid), subs.cpuSeconds()]);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(SAT_SECONDS * 1000);
  const [d1, cpu1, sub1] = await Promise.all([subs.count(), cpuSeconds(server.child.pid), subs.cpuSeconds()]);
  const c1 = process.cpuUsage(c0);
  const seconds = (performance.now() - t0) / 1000;
  running = false;
  // Drain: every posted message must reach every subscriber.
  const deadline = Date.now() + 20_000;
  while ((inFlight > 0 || complete < posted) && Date.now() < deadline) await sleep(50);
  const delivered = await subs.count();
  subs.onDone = null;
  agent.destroy();
  if (errors > 0) throw new Error(`${errors} posts failed during saturation`);
  const serverCpu = cpu1 - cpu0;
  return {
    deliveriesPerSecond: (d1 - d0) / seconds,
    serverCores: serverCpu / seconds,
    clientCores: ((c1.user + c1.system) / 1e6 + sub1 - sub0) / seconds,
    deliveriesPerServerCpuSecond: (d1 - d0) / serverCpu,
    lost: posted * subs.total - delivered,
  };
}

/**
 * Post → notify latency: `count` posts, either paced open-loop at `rate` per second or (rate 0)
 * one at a time, each waiting for its 201 (bench/many.ts's pattern). Latency = arrival at the
 * subscriber − the send time carried in the message.
 */
async function latency(server: RunningServer, subs: Subscribers, queue: string, count: number, rate: number): Promise<Latency> {
  const seqBase = Math.floor(Math.random() * 1e9);
  await subs.latency(seqBase, count);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const post = async (i: number): Promise<void> => {
    const r = await send(server.restPort, { method: 'POST', path: `/v2/queues/${queue}/messages`, headers: HEADERS, body: postBody(seqBase + i) }, agent);
    if (r.status !== 201) throw new Error(`post: ${r.status} ${r.body}`);
  };
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (rate === 0) {
      await post(i);
      continue;
    }
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(post(i));
  }
  await Promise.all(pending);
  const expected = count * subs.total;
  const deadline = Date.now() + 15_000;
  while ((await subs.count()) < expected && Date.now() < deadline) await sleep(50);
  const { samples, closed } = await subs.collect();
  agent.destroy();
  if (closed > 0) throw new Error(`${closed} subscribers were closed by the server`);
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), deliveries: samples.length, expected };
}

/** Everything one target does in one round, on one server process. */
async function oneRound(target: FanoutTarget, sizes: readonly number[], with10k: boolean, log: (line: string) => void): Promise<RoundResult> {
  const server = await startServer(target.script, target.env);
  const subs = Subscribers.start(CLIENTS);
  const saturation = new Map<number, Saturation>();
  const lat = new Map<string, Latency>();
  try {
    const port = server.wsPort ?? 0;
    const queue = `fan${randomUUID().slice(0, 8)}`;
    for (const size of sizes) {
      const t0 = performance.now();
      await subs.growTo(size, port, queue);
      log(`${target.name}: ${size} subscribed (${fmt((performance.now() - t0) / 1000, 1)} s)`);
      await settle(server);
      const s = await saturate(server, subs, queue);
      saturation.set(size, s);
      log(`${target.name}: saturation ${size}: ${JSON.stringify(s)}`);
      const paced = size === 100 ? { rate: 200, count: 1000 } : size === 1000 ? { rate: 20, count: 200 } : null;
      if (paced !== null) {
        await settle(server);
        const l = await latency(server, subs, queue, paced.count, paced.rate);
        lat.set(`${size}@${paced.rate}`, l);
        log(`${target.name}: latency ${size} subs @ ${paced.rate}/s: ${JSON.stringify(l)}`);
      }
    }
    if (with10k) {
      const t0 = performance.now();
      await subs.growTo(10_000, port, queue);
      log(`${target.name}: 10000 subscribed (${fmt((performance.now() - t0) / 1000, 1)} s)`);
      await settle(server);
      const l = await latency(server, subs, queue, 20, 0);
      lat.set('10000@serial', l);
      log(`${target.name}: latency 10000 subs, 20 posts one at a time: ${JSON.stringify(l)}`);
    }
    return { saturation, latency: lat };
  } finally {
    await subs.close();
    await server.stop();
  }
}

function openFilesLimit(): number {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === undefined ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export async function fanoutBench(opts: FanoutOptions): Promise<FanoutSection[]> {
  const most = Math.max(...opts.sizes, opts.with10k ? 10_000 : 0);
  const limit = openFilesLimit();
  if (limit < most + 500) {
    throw new Error(`fanout: ${most} sockets need \`ulimit -n\` ≥ ${most + 500} (it is ${limit}); run \`ulimit -n 20000\` in the shell that starts the benchmark`);
  }
  const results = new Map<string, RoundResult[]>(opts.targets.map((t) => [t.name, []]));
  for (let r = 0; r < opts.rounds; r++) {
    for (const t of opts.targets) {
      const res = await oneRound(t, opts.sizes, opts.with10k, (line) => opts.log(`round ${r + 1}/${opts.rounds} ${line}`));
      results.get(t.name)?.push(res);
    }
  }
  const raw = opts.targets.find((t) => t.raw);
  const rawResults = raw === undefined ? [] : (results.get(raw.name) ?? []);
  const satMed = (rs: readonly RoundResult[], size: number, k: keyof Saturation): number =>
    median(rs.map((x) => x.saturation.get(size)?.[k] ?? Number.NaN));
  const latMed = (rs: readonly RoundResult[], key: string, k: keyof Latency): number => median(rs.map((x) => x.latency.get(key)?.[k] ?? Number.NaN));
  const latSum = (rs: readonly RoundResult[], key: string, k: keyof Latency): number => rs.reduce((a, x) => a + (x.latency.get(key)?.[k] ?? 0), 0);

  const satRows: Row[] = [];
  for (const size of opts.sizes) {
    const rawDps = satMed(rawResults, size, 'deliveriesPerSecond');
    const rawCpu = satMed(rawResults, size, 'deliveriesPerServerCpuSecond');
    for (const t of opts.targets) {
      const rs = results.get(t.name) ?? [];
      satRows.push({
        name: `${t.name}: ${size} subs`,
        'deliveries/s': fmt(satMed(rs, size, 'deliveriesPerSecond'), 0),
        'vs raw ws': fmt(satMed(rs, size, 'deliveriesPerSecond') / rawDps, 2),
        'server CPU (cores)': fmt(satMed(rs, size, 'serverCores'), 2),
        'load-gen CPU (cores)': fmt(satMed(rs, size, 'clientCores'), 2),
        'deliveries per server CPU-s': fmt(satMed(rs, size, 'deliveriesPerServerCpuSecond'), 0),
        'per CPU-s vs raw ws': fmt(satMed(rs, size, 'deliveriesPerServerCpuSecond') / rawCpu, 2),
        lost: rs.reduce((a, x) => a + (x.saturation.get(size)?.lost ?? 0), 0),
      });
    }
  }
  const latRows: Row[] = [];
  const latKeys: [string, string][] = [];
  if (opts.sizes.includes(100)) latKeys.push(['100@200', '100 subs, 200 posts/s']);
  if (opts.sizes.includes(1000)) latKeys.push(['1000@20', '1000 subs, 20 posts/s']);
  for (const [k, label] of latKeys) {
    for (const t of opts.targets) {
      const rs = results.get(t.name) ?? [];
      latRows.push({
        name: `${t.name}: ${label}`,
        'p50 ms': fmt(latMed(rs, k, 'p50Ms'), 2),
        'p99 ms': fmt(latMed(rs, k, 'p99Ms'), 2),
        'p99 vs raw ws': fmt(latMed(rs, k, 'p99Ms') / latMed(rawResults, k, 'p99Ms'), 2),
        delivered: `${latSum(rs, k, 'deliveries')}/${latSum(rs, k, 'expected')}`,
      });
    }
  }
  const sections: FanoutSection[] = [
    {
      title: `WS fan-out saturation: deliveries/s to ${opts.sizes.join(' / ')} subscribers of one queue, bridge vs raw ws`,
      rows: satRows,
      note: `Closed loop, at most ${WINDOW} messages not yet received by every subscriber and ${POSTERS} POSTs in flight; ${WARM_SECONDS} s warm-up, then ${SAT_SECONDS} s measured. Raw ws: serializes each message once and writes the same Buffer to every socket. Server and load generator share the machine's CPUs; "per CPU-s" divides by the server's own CPU time in the window (/proc), so it stays comparable when the load generator was the bottleneck.`,
    },
    {
      title: 'Post → notify latency at a steady post rate, bridge vs raw ws floor',
      rows: latRows,
      note: 'Posts paced open-loop (one every 5 ms / 50 ms; 1,000 / 200 posts), each carrying its send time; every subscriber parses every frame; p50/p99 over all (message, subscriber) pairs.',
    },
  ];
  if (opts.with10k) {
    sections.push({
      title: 'Post → notify latency at 10,000 subscribers (bench/many.ts pattern), bridge vs raw ws',
      rows: opts.targets.map((t) => {
        const rs = results.get(t.name) ?? [];
        return {
          name: `${t.name}: 10000 subs`,
          'p50 ms': fmt(latMed(rs, '10000@serial', 'p50Ms'), 1),
          'p99 ms': fmt(latMed(rs, '10000@serial', 'p99Ms'), 1),
          'p99 vs raw ws': fmt(latMed(rs, '10000@serial', 'p99Ms') / latMed(rawResults, '10000@serial', 'p99Ms'), 2),
          delivered: `${latSum(rs, '10000@serial', 'deliveries')}/${latSum(rs, '10000@serial', 'expected')}`,
        };
      }),
      note: '20 posts one after another (each waits for its 201, not for delivery), as bench/many.ts; the 10,000 sockets are spread over the subscriber processes (bench/many.ts holds them all in one), every frame parsed.',
    });
  }
  return sections;
}
