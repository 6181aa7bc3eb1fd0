/**
 * Single-message REST posts against servers kept running across rounds: the warm A/B of the
 * `rabbitmq` section. Its other rows start a fresh server per row, so a build's cold start
 * (JIT, the stream's creation, the first batches) is part of every sample; here each server
 * is warmed once, then every round posts `total` messages to each build in turn (starting with
 * a different one each round) and runs a raw 16-in-flight publish, so a noisy neighbour hits all
 * of them alike.
 *
 * Each sample also reads, from /proc, the CPU that the server, the broker (when it runs on
 * this machine) and this process (the load generator) spent per post: on 2 shared vCPUs the
 * rate follows the total, and the split says whose it is.
 */
import { execFileSync } from 'node:child_process';
import { rawStreamPublish, restPosts } from './extra.js';
import { cpuSeconds, startServer, type RunningServer } from './lib/child.js';
import { fmt, median, type Row } from './lib/stats.js';

export interface WarmTarget {
  readonly name: string;
  readonly script: string;
  readonly env: Record<string, string>;
}

interface Sample {
  readonly perSecond: number;
  /** CPU seconds per post (per message for the raw publish), NaN where not readable. */
  readonly server: number;
  readonly broker: number;
  readonly client: number;
}

/** The local broker's OS pid, or undefined when rabbitmqctl cannot reach one. */
function brokerPid(): number | undefined {
  try {
    const out = execFileSync('rabbitmqctl', ['eval', 'list_to_integer(os:getpid()).'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(out.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function cpuOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  try {
    return await cpuSeconds(pid);
  } catch {
    return Number.NaN;
  }
}

async function measure(count: number, serverPid: number | undefined, brokerPidNow: number | undefined, run: () => Promise<number>): Promise<Sample> {
  const [s0, b0] = await Promise.all([cpuOf(serverPid), cpuOf(brokerPidNow)]);
  const c0 = process.cpuUsage();
  const perSecond = await run();
  const c = process.cpuUsage(c0);
  const [s1, b1] = await Promise.all([cpuOf(serverPid), cpuOf(brokerPidNow)]);
  return { perSecond, server: (s1 - s0) / count, broker: (b1 - b0) / count, client: (c.user + c.system) / 1e6 / count };
}

const micro = (xs: readonly number[]): string => {
  const m = median(xs.filter((x) => !Number.isNaN(x)));
  return Number.isNaN(m) ? '' : fmt(m * 1e6, 0);
};

/**
 * `rounds` rounds of `total` posts from 16 clients to each target (one queue per server, kept
 * across rounds) and of `total` raw publishes with 16 in flight; rows of medians.
 */
export async function warmPosts(amqpUrl: string, targets: readonly WarmTarget[], rounds: number, total: number, log: (line: string) => void): Promise<Row[]> {
  const broker = brokerPid();
  const servers: RunningServer[] = [];
  try {
    for (const t of targets) servers.push(await startServer(t.script, t.env));
    // Warm-up: a fifth of a round to each server (not measured).
    for (const [i, s] of servers.entries()) await restPosts(s.restPort, `warm${i}`, Math.ceil(total / 5), 16);
    const samples: Sample[][] = targets.map(() => []);
    const rawSamples: Sample[] = [];
    for (let r = 0; r < rounds; r++) {
      // Each round starts with the next server, so no build keeps one place: two builds run
      // 6 rounds in a fixed order, then 6 in the other, were each ahead when second.
      for (let k = 0; k < servers.length; k++) {
        const i = (k + r) % servers.length;
        const s = servers[i] as RunningServer;
        const t = targets[i] as WarmTarget;
        const x = await measure(total, s.child.pid, broker, () => restPosts(s.restPort, `warm${i}`, total, 16));
        samples[i]?.push(x);
        log(`warm round ${r + 1}/${rounds} ${t.name}: ${JSON.stringify(x)}`);
      }
      const x = await measure(total, undefined, broker, () => rawStreamPublish(amqpUrl, total, 16));
      rawSamples.push(x);
      log(`warm round ${r + 1}/${rounds} raw: ${JSON.stringify(x)}`);
    }
    const raw = median(rawSamples.map((x) => x.perSecond));
    const row = (name: string, xs: readonly Sample[]): Row => {
      const rate = median(xs.map((x) => x.perSecond));
      return {
        name,
        'msg/s': fmt(rate, 0),
        'vs raw, 16 in flight': fmt(rate / raw, 2),
        'rounds (msg/s)': xs.map((x) => fmt(x.perSecond, 0)).join(' / '),
        'server µs/msg': micro(xs.map((x) => x.server)),
        'broker µs/msg': micro(xs.map((x) => x.broker)),
        'load-gen µs/msg': micro(xs.map((x) => x.client)),
      };
    };
    return [...targets.map((t, i) => row(t.name, samples[i] ?? [])), row('raw amqplib → stream, confirms, 16 in flight', rawSamples)];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
