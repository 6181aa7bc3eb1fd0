/**
 * Runs the benchmarks side by side with their baselines in one run and prints ratios.
 *
 *   npm run bench                 # embedded backend vs baseline
 *   RABBITMQ_URL=amqp://… npm run bench   # also the RabbitMQ backend
 *
 * Each target is measured in alternating rounds (bridge, baseline, bridge, baseline, …) and
 * the median of the rounds is reported, so a noisy neighbour hits both sides alike.
 */
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from './lib/child.js';
import { fmt, median, table, type Row } from './lib/stats.js';
import { closeAll, openSubscribers, postToNotification, restPostList } from './scenarios.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SUBSCRIBERS = Number(process.env['BENCH_SUBSCRIBERS'] ?? 100);
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

interface Target {
  readonly name: string;
  readonly script: string;
  readonly env: Record<string, string>;
}

interface Sample {
  post: number;
  list: number;
  p50: number;
  p99: number;
  lost: number;
}

async function measure(t: Target, round: number): Promise<Sample> {
  const server: RunningServer = await startServer(here(t.script), t.env);
  try {
    const queue = `bench${round}${Date.now() % 100000}`;
    const rest = await restPostList(server.restPort, queue);
    const wsQueue = `${queue}ws`;
    const sockets = await openSubscribers([server.wsPort ?? 0], wsQueue, SUBSCRIBERS);
    const lat = await postToNotification([server.restPort], sockets, wsQueue);
    await closeAll(sockets);
    return { post: rest.postPerSecond, list: rest.listPerSecond, p50: lat.p50Ms, p99: lat.p99Ms, lost: lat.expected - lat.deliveries + rest.errors };
  } finally {
    await server.stop();
  }
}

const targets: Target[] = [
  { name: 'bridge (memory)', script: './servers/bridge.js', env: { RABBITMQ_URL: '' } },
  { name: 'baseline (fastify+ws, no semantics)', script: './servers/baseline.js', env: {} },
];
const amqp = process.env['RABBITMQ_URL'];
if (amqp !== undefined && amqp !== '') {
  targets.splice(1, 0, { name: 'bridge (rabbitmq)', script: './servers/bridge.js', env: { RABBITMQ_URL: amqp } });
}

const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const t of targets) {
    const s = await measure(t, round);
    samples.get(t.name)?.push(s);
    process.stderr.write(`round ${round + 1}/${ROUNDS} ${t.name}: ${JSON.stringify(s)}\n`);
  }
}

const base = samples.get(targets[targets.length - 1]?.name ?? '') ?? [];
const med = (xs: readonly Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]));
const rows: Row[] = targets.map((t) => {
  const xs = samples.get(t.name) ?? [];
  return {
    name: t.name,
    'REST post/s': fmt(med(xs, 'post'), 0),
    'vs baseline': fmt(med(xs, 'post') / med(base, 'post'), 2),
    'REST list/s': fmt(med(xs, 'list'), 0),
    'list vs baseline': fmt(med(xs, 'list') / med(base, 'list'), 2),
    [`post→notify p50 ms (${SUBSCRIBERS} subs)`]: fmt(med(xs, 'p50'), 2),
    'p99 ms': fmt(med(xs, 'p99'), 2),
    'lost': med(xs, 'lost'),
  };
});
process.stdout.write(`\n${table(rows)}\n\nrounds: ${ROUNDS}, median of rounds; node ${process.version}\n`);
