/**
 * Runs the benchmarks side by side with their baselines in one run and prints ratios.
 *
 *   npm run bench                          # every section that needs no broker
 *   RABBITMQ_URL=amqp://… npm run bench    # also the RabbitMQ sections
 *   BENCH_ONLY=core,schema npm run bench   # some sections: core, schema, memory, reattach, coalesce, catalog, rabbitmq,
 *                                          # stages, warm (part of rabbitmq), and `many` (10,000 connections; not in the default set)
 *                                          # and `fanout` (WS fan-out vs raw ws at 100/1,000/5,000 subscribers; not in
 *                                          # the default set; BENCH_FANOUT_10K=1 adds 10,000)
 *
 * Where a bridge is compared with a baseline, they are measured in alternating rounds and
 * the median of the rounds is reported, so a noisy neighbour hits both sides alike.
 */
import { fileURLToPath } from 'node:url';
import { catalogBoot } from './catalog-boot.js';
import { rawStreamPublish, idleConnectionBytes, reattachReplay, reconnectStorm, restPosts } from './extra.js';
import { startServer, type RunningServer } from './lib/child.js';
import { sdkReattach } from './sdk.js';
import { coalesceBurst } from './coalesce.js';
import { manySubscribers } from './many.js';
import { fanoutBench } from './fanout.js';
import { manyQueues } from './queues.js';
import { profilePosts, rawFloor } from './stages.js';
import { warmPosts, type WarmTarget } from './warm.js';
import type { StageSummary } from './lib/stages.js';
import { fmt, median, table, type Row } from './lib/stats.js';
import { closeAll, openSubscribers, postToNotification, restPostList } from './scenarios.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SUBSCRIBERS = Number(process.env['BENCH_SUBSCRIBERS'] ?? 100);
const AMQP = process.env['RABBITMQ_URL'] ?? '';
const ONLY = new Set((process.env['BENCH_ONLY'] ?? 'core,schema,memory,reattach,coalesce,catalog,rabbitmq,stages').split(','));
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const BRIDGE = here('./servers/bridge.js');
const BASELINE = here('./servers/baseline.js');
/**
 * This build's bridge, and with BENCH_BEFORE (another build's bench/servers/bridge.js) that one
 * too, measured right after it: [name prefix, script].
 */
function bridgeBuilds(): [string, string][] {
  const before = process.env['BENCH_BEFORE'];
  return [['', BRIDGE], ...(before === undefined ? [] : [['before: ', before] as [string, string]])];
}
const MEMORY_ENV = { RABBITMQ_URL: '' };
const RABBIT_ENV = { RABBITMQ_URL: AMQP, RABBITMQ_EXCHANGE: `bench${Date.now() % 100000}` };
const out: string[] = [];

function section(title: string, rows: Row[], note = ''): void {
  const text = `\n### ${title}\n\n${table(rows)}\n${note === '' ? '' : `\n${note}\n`}`;
  out.push(text);
  process.stderr.write(text);
}

async function withServer<T>(script: string, env: Record<string, string>, f: (s: RunningServer) => Promise<T>): Promise<T> {
  const s = await startServer(script, env);
  try {
    return await f(s);
  } finally {
    await s.stop();
  }
}

/** Alternating rounds of several named measurements; returns the samples of each. */
async function rounds<T>(names: readonly string[], measure: (name: string, round: number) => Promise<T>): Promise<Map<string, T[]>> {
  const samples = new Map<string, T[]>(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const n of names) {
      const s = await measure(n, r);
      samples.get(n)?.push(s);
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${n}: ${JSON.stringify(s)}\n`);
    }
  }
  return samples;
}

// ── 1. REST throughput and post→notification latency, bridge vs baseline ─────────────────
if (ONLY.has('core')) {
  const targets: [string, string, Record<string, string>][] = [
    ['bridge (memory)', BRIDGE, MEMORY_ENV],
    ...(AMQP === '' ? [] : [['bridge (rabbitmq)', BRIDGE, RABBIT_ENV] as [string, string, Record<string, string>]]),
    ['baseline (fastify+ws, no semantics)', BASELINE, {}],
  ];
  const samples = await rounds(
    targets.map((t) => t[0]),
    (name, round) => {
      const [, script, env] = targets.find((t) => t[0] === name) ?? targets[0]!;
      return withServer(script, env, async (s) => {
        const queue = `bench${round}${Date.now() % 100000}`;
        const rest = await restPostList(s.restPort, queue);
        const sockets = await openSubscribers([s.wsPort ?? 0], `${queue}ws`, SUBSCRIBERS);
        const lat = await postToNotification([s.restPort], sockets, `${queue}ws`);
        await closeAll(sockets);
        return { post: rest.postPerSecond, list: rest.listPerSecond, p50: lat.p50Ms, p99: lat.p99Ms, lost: lat.expected - lat.deliveries + rest.errors };
      });
    },
  );
  const base = samples.get(targets[targets.length - 1]?.[0] ?? '') ?? [];
  const med = (xs: readonly { [k: string]: number }[], k: string): number => median(xs.map((x) => x[k] ?? Number.NaN));
  section(
    'REST throughput and post → notification latency (embedded backend and RabbitMQ vs baseline)',
    targets.map(([name]) => {
      const xs = samples.get(name) ?? [];
      return {
        name,
        'REST post/s': fmt(med(xs, 'post'), 0),
        'post vs baseline': fmt(med(xs, 'post') / med(base, 'post'), 2),
        'REST list/s': fmt(med(xs, 'list'), 0),
        'list vs baseline': fmt(med(xs, 'list') / med(base, 'list'), 2),
        [`notify p50 ms (${SUBSCRIBERS} subs)`]: fmt(med(xs, 'p50'), 2),
        'notify p99 ms': fmt(med(xs, 'p99'), 2),
        lost: med(xs, 'lost'),
      };
    }),
    'One message per POST, 16 concurrent keep-alive clients, 4,000 posts then 4,000 lists (limit 10); latency: 200 posts one at a time, each timestamped, received by every subscriber.',
  );
}

// ── 2. The cost of a schema on the post path ─────────────────────────────────────────────
if (ONLY.has('schema')) {
  const env = { ...MEMORY_ENV, QUEUE_SCHEMAS: 'tripleo*=tripleo-workflow-message-v1' };
  const samples = await rounds(['no schema bound', 'schema bound (tripleo-workflow-message-v1)'], (name, round) =>
    withServer(BRIDGE, env, (s) => restPosts(s.restPort, `${name.startsWith('no') ? 'plain' : 'tripleo'}${round}`)),
  );
  const base = median(samples.get('no schema bound') ?? []);
  section(
    'REST posts with and without a JSON Schema bound to the queue (embedded backend)',
    [...samples].map(([name, xs]) => ({ name, 'posts/s': fmt(median(xs), 0), 'vs no schema': fmt(median(xs) / base, 2) })),
  );
}

// ── 3. Memory per idle WebSocket connection ──────────────────────────────────────────────
if (ONLY.has('memory')) {
  const COUNT = Number(process.env['BENCH_IDLE_CONNECTIONS'] ?? 2000);
  const samples = await rounds(['bridge (memory)', 'baseline (raw ws)'], (name) =>
    withServer(name.startsWith('bridge') ? BRIDGE : BASELINE, MEMORY_ENV, (s) => idleConnectionBytes(s, COUNT)),
  );
  section(
    `Memory per idle WebSocket connection (${COUNT} connections, RSS after GC)`,
    [...samples].map(([name, xs]) => ({ name, 'KiB per connection': fmt(median(xs) / 1024, 1) })),
    'RSS of the server process only; the kernel adds about 4 KiB per socket.',
  );
}

// ── 3b. Many connections on one pod: 10,000 idle and 10,000 subscribed ──────────────────
if (ONLY.has('many')) {
  const COUNT = Number(process.env['BENCH_MANY'] ?? 10_000);
  const idle = await rounds(['bridge (memory)', 'baseline (raw ws)'], (name) =>
    withServer(name.startsWith('bridge') ? BRIDGE : BASELINE, MEMORY_ENV, (s) => idleConnectionBytes(s, COUNT)),
  );
  const idleRows: Row[] = [...idle].map(([name, xs]) => ({ name: `${name}: ${COUNT} idle`, 'KiB per connection': fmt(median(xs) / 1024, 1) }));
  const rows: Row[] = [];
  const backends: [string, Record<string, string>][] = [['memory', MEMORY_ENV], ...(AMQP === '' ? [] : [['rabbitmq', RABBIT_ENV] as [string, Record<string, string>]])];
  for (const [name, env] of backends) for (const [prefix, script] of bridgeBuilds()) {
    const r = await withServer(script, env, (s) => manySubscribers(s, COUNT));
    rows.push({
      name: `${prefix}bridge (${name}): ${COUNT} subscribed`,
      'KiB per connection': fmt(r.bytesPerSubscribed / 1024, 1),
      'subscribes/s (one at a time)': fmt(r.subscribesPerSecond, 0),
      'post→notify p50 ms': fmt(r.p50Ms, 1),
      'p99 ms': fmt(r.p99Ms, 1),
      delivered: `${r.deliveries}/${r.expected}`,
    });
  }
  section(`Many idle connections on one pod (${COUNT})`, idleRows, 'RSS growth of the server (after GC) per open WebSocket connection, bridge vs a raw `ws` server, alternating rounds.');
  section(
    `Many subscribed connections on one pod (${COUNT})`,
    rows,
    `${COUNT} clients subscribe one after another (each waits for its 201), then 20 messages are posted one at a time and every subscriber timestamps each; the load generator is one Node process holding all ${COUNT} sockets, so its own parsing is part of the latency. Needs \`ulimit -n\` above ${COUNT} + a few hundred (the benchmark does not raise it).`,
  );
}

// ── 3c. WS fan-out vs raw ws: saturation and latency at 100 / 1,000 / 5,000 subscribers (issue 11 §2) ──
if (ONLY.has('fanout')) {
  const sections = await fanoutBench({
    targets: [
      ...bridgeBuilds().flatMap(([prefix, script]) => [
        { name: `${prefix}bridge (memory)`, script, env: MEMORY_ENV, raw: false },
        ...(AMQP === '' ? [] : [{ name: `${prefix}bridge (rabbitmq)`, script, env: RABBIT_ENV, raw: false }]),
      ]),
      // The same fan-out through one RabbitMQ stream, with nothing of the bridge: the broker's share.
      ...(AMQP === '' ? [] : [{ name: 'raw amqplib stream → ws', script: here('./servers/fanout-raw-rabbitmq.js'), env: RABBIT_ENV, raw: false }]),
      { name: 'raw ws', script: here('./servers/fanout-raw.js'), env: MEMORY_ENV, raw: true },
    ],
    rounds: ROUNDS,
    sizes: (process.env['BENCH_FANOUT_SIZES'] ?? '100,1000,5000').split(',').map(Number),
    with10k: process.env['BENCH_FANOUT_10K'] === '1',
    log: (line) => process.stderr.write(`fanout: ${line}\n`),
  });
  for (const s of sections) section(s.title, s.rows, s.note);
}

// ── 4. Reattach: replay time and broker reads during a storm ──────────────────────────────
// ── Many queues on a RabbitMQ node of the benchmark's own (issue 11 §3) ──────────────────
if (ONLY.has('queues')) {
  const COUNT = Number(process.env['BENCH_QUEUES'] ?? 10_000);
  const POSTED = Math.min(COUNT, Number(process.env['BENCH_QUEUES_POSTED'] ?? COUNT));
  const SUBSCRIBED = Math.min(POSTED, Number(process.env['BENCH_QUEUES_SUBSCRIBED'] ?? 1_000));
  const r = await manyQueues(BRIDGE, { count: COUNT, posted: POSTED, subscribed: SUBSCRIBED }, (line) => process.stderr.write(`queues: ${line}\n`));
  const kib = (b: number): string => fmt(b / 1024, 1);
  section(`Many queues on RabbitMQ (${COUNT} created, ${POSTED} posted to, ${SUBSCRIBED} subscribed)`, [
    { name: 'queues created/s (REST PUT, 32 in flight)', value: fmt(r.createdPerSecond, 0) },
    { name: 'first posts/s (one per queue: creates its stream, 32 in flight)', value: fmt(r.postedPerSecond, 0) },
    { name: 'subscribes/s (one socket per queue, one after another)', value: fmt(r.subscribedPerSecond, 0) },
    { name: 'queues deleted/s (REST DELETE, 32 in flight)', value: fmt(r.deletedPerSecond, 0) },
    { name: 'broker RSS per queue with one message, KiB', value: kib(r.brokerBytesPerQueue) },
    { name: 'broker disk per queue with one message, KiB', value: kib(r.diskBytesPerQueue) },
    { name: 'broker open files per queue (stream + the pod\'s reader)', value: fmt(r.brokerFilesPerQueue, 2) },
    { name: `pod RSS per folded queue (${r.foldedQueues} folded after the posts), KiB`, value: kib(r.podBytesPerFoldedQueue) },
    { name: `pod start-up with ${COUNT} queues in the catalogue, ms`, value: fmt(r.podStartMs, 0) },
    { name: 'queue streams on the broker: before / after posts / after deleting all', value: `${r.streamsBefore} / ${r.streamsAfterPosts} / ${r.streamsAfterDelete}` },
    { name: 'broker RSS / disk left after deleting all, KiB', value: `${kib(r.brokerBytesAfterDelete)} / ${kib(r.diskBytesAfterDelete)}` },
    { name: 'failed requests', value: String(r.errors) },
  ]);
}

if (ONLY.has('reattach')) {
  const backends: [string, Record<string, string>][] = [['memory', MEMORY_ENV], ...(AMQP === '' ? [] : [['rabbitmq', RABBIT_ENV] as [string, Record<string, string>]])];
  const rows: Row[] = [];
  const sdkRows: Row[] = [];
  for (const [backend, env] of backends) for (const [prefix, script] of bridgeBuilds()) {
    const name = `${prefix}${backend}`;
    const r = await withServer(script, env, (s) => reattachReplay(s));
    const storm = await withServer(script, env, (s) => reconnectStorm(s));
    const sdk = await withServer(script, env, (s) => sdkReattach(s));
    sdkRows.push({
      name,
      'SDK: first message p50 ms': fmt(sdk.firstP50, 1),
      'first p99 ms': fmt(sdk.firstP99, 1),
      'SDK: 1,000th p50 ms': fmt(sdk.allP50, 1),
      '1,000th p99 ms': fmt(sdk.allP99, 1),
      'raw protocol: 1,000th p50 ms': fmt(r.allP50, 1),
      'SDK / raw (1,000th p50)': fmt(sdk.allP50 / r.allP50, 2),
      duplicates: String(sdk.duplicates),
    });
    rows.push({
      name,
      'first replayed p50 ms': fmt(r.firstP50, 1),
      'first p99 ms': fmt(r.firstP99, 1),
      '1,000 replayed p50 ms': fmt(r.allP50, 1),
      '1,000 p99 ms': fmt(r.allP99, 1),
      'storm: 500 clients × 1,000 msgs, s': fmt(storm.seconds, 2),
      'tails opened per reattach': fmt(storm.tailsPerReattach, 3),
      'records read per reattach': fmt(storm.recordsPerReattach, 2),
    });
  }
  section(
    'Reattach: 1,000 missed messages, and a reconnect storm',
    rows,
    'Replay: 15 rounds; a client reattaches with its last marker after 1,000 messages were posted, time from the request to the first and to the 1,000th replayed notification. Storm: 500 clients reattach at once to one queue; broker reads are counted by a wrapper around the backend (tails opened, records delivered). The records read are each client\'s own subscription_create event coming back on the catalogue log, not the replayed range.',
  );
  section(
    'Reattach through the SDK after a cut: 1,000 missed messages',
    sdkRows,
    'bench/sdk.ts, 15 rounds per backend: a TCP proxy kills the SDK client\'s link and refuses new ones while 1,000 messages are posted over REST, then lets it back; time from the link\'s return to the first and to the 1,000th message handed to the application. It includes the SDK\'s reconnect backoff (at most 20 ms here), authenticate-less handshake and reattach; the raw-protocol column is the replay above, measured in the same run.',
  );
}

// ── 4a. Coalescing: a burst of identical events to 100 subscribers, with and without ──────
if (ONLY.has('coalesce')) {
  const backends: [string, Record<string, string>][] = [['memory', MEMORY_ENV], ...(AMQP === '' ? [] : [['rabbitmq', RABBIT_ENV] as [string, Record<string, string>]])];
  const rows: Row[] = [];
  for (const [name, env] of backends) {
    const samples = await withServer(BRIDGE, env, (s) => rounds(['without', 'with _coalesce'], (n) => coalesceBurst(s, n !== 'without')));
    const pick = (n: string, f: (r: { deliveries: number; cpuMs: number; seconds: number }) => number): number => median((samples.get(n) ?? []).map(f));
    for (const n of ['without', 'with _coalesce']) {
      rows.push({
        name: `${name}: ${n}`,
        'notifications delivered': fmt(pick(n, (r) => r.deliveries), 0),
        'server CPU ms': fmt(pick(n, (r) => r.cpuMs), 0),
        'burst s': fmt(pick(n, (r) => r.seconds), 2),
      });
    }
    rows.push({
      name: `${name}: with / without`,
      'notifications delivered': fmt(pick('with _coalesce', (r) => r.deliveries) / pick('without', (r) => r.deliveries), 4),
      'server CPU ms': fmt(pick('with _coalesce', (r) => r.cpuMs) / pick('without', (r) => r.cpuMs), 2),
      'burst s': fmt(pick('with _coalesce', (r) => r.seconds) / pick('without', (r) => r.seconds), 2),
    });
  }
  section(
    'Coalescing: 10,000 identical events to 100 subscribers',
    rows,
    'bench/coalesce.ts: 10,000 `invalidateCache` LIST events posted over REST (100 per post) to a queue with 100 plain WebSocket subscribers, without and with `_coalesce: {"window_ms": 250, "key": "/value"}`, alternating rounds (median). Delivered: notification frames all subscribers received; CPU: the server process\'s user + system time for the burst (/proc); burst: from the first post until the last notification.',
  );
}

// ── 4b. Pod start-up on a long-lived catalogue: snapshot vs full replay ───────────────────
if (ONLY.has('catalog')) {
  const shape = { queues: 1000, churn: 10_000, tail: 200, rounds: ROUNDS };
  const kinds: ('memory' | 'rabbitmq')[] = AMQP === '' ? ['memory'] : ['memory', 'rabbitmq'];
  const rows: Row[] = [];
  for (const kind of kinds) {
    const r = await catalogBoot(kind, { ...shape, url: AMQP, exchange: `${RABBIT_ENV.RABBITMQ_EXCHANGE}.cat` });
    rows.push({
      name: kind,
      'catalogue records': r.records,
      'start, snapshot ms': fmt(median(r.snapshotMs), 0),
      'start, full replay ms': fmt(median(r.replayMs), 0),
      'replay / snapshot': fmt(median(r.replayMs) / median(r.snapshotMs), 1),
      'records folded (snapshot / replay)': `${r.foldedWithSnapshot} / ${r.foldedWithoutSnapshot}`,
    });
  }
  section(
    'Pod start-up on a long-lived catalogue: newest snapshot vs full replay',
    rows,
    `${shape.queues} queues, ${shape.churn} WebSocket subscribe/unsubscribe pairs, a snapshot, then ${shape.tail} more queues. Time from start() to ready, alternating rounds on the same log; "full replay" is the same pod with snapshot loading switched off (the behaviour before snapshots).`,
  );
}

// ── 5. RabbitMQ: bridge posts vs raw amqplib, and fan-out across two pods ────────────────
if (ONLY.has('rabbitmq') && AMQP !== '') {
  // BENCH_POSTS_SCALE=5 runs every REST row 5 × longer (a warmer server; the raw rows are fixed).
  const POSTS_SCALE = Number(process.env['BENCH_POSTS_SCALE'] ?? 1);
  const cases: Record<string, (round: number) => Promise<number>> = {
    'bridge (rabbitmq) REST, 1 msg/post, 1 client': (r) => withServer(BRIDGE, RABBIT_ENV, (s) => restPosts(s.restPort, `c1x${r}`, 500 * POSTS_SCALE, 1)),
    'raw amqplib → stream, confirms, 1 in flight': () => rawStreamPublish(AMQP, 2000, 1),
    'bridge (rabbitmq) REST, 1 msg/post, 16 clients': (r) => withServer(BRIDGE, RABBIT_ENV, (s) => restPosts(s.restPort, `c16x${r}`, 4000 * POSTS_SCALE, 16)),
    'bridge (rabbitmq) REST, 1 msg/post, 16 clients, node:http load generator': (r) =>
      withServer(BRIDGE, RABBIT_ENV, (s) => restPosts(s.restPort, `n16x${r}`, 4000 * POSTS_SCALE, 16, 1, 'node')),
    'bridge (memory) REST, 1 msg/post, 16 clients (HTTP ceiling)': (r) => withServer(BRIDGE, MEMORY_ENV, (s) => restPosts(s.restPort, `m16x${r}`, 4000 * POSTS_SCALE, 16)),
    'bridge (rabbitmq) REST, 1 msg/post, 64 clients': (r) => withServer(BRIDGE, RABBIT_ENV, (s) => restPosts(s.restPort, `c64x${r}`, 6000 * POSTS_SCALE, 64)),
    'raw amqplib → stream, confirms, 16 in flight': () => rawStreamPublish(AMQP, 20000, 16),
    'bridge (rabbitmq) REST, 10 msgs/post, 16 clients': (r) => withServer(BRIDGE, RABBIT_ENV, (s) => restPosts(s.restPort, `c16b${r}`, 2000 * POSTS_SCALE, 16, 10)),
    'raw amqplib → stream, confirms, 1000 in flight': () => rawStreamPublish(AMQP, 40000, 1000),
  };
  // With BENCH_BEFORE, the other build's single-message rows too, in the same rounds.
  for (const [prefix, script] of bridgeBuilds().slice(1)) {
    cases[`${prefix}bridge (rabbitmq) REST, 1 msg/post, 16 clients`] = (r) => withServer(script, RABBIT_ENV, (s) => restPosts(s.restPort, `b16x${r}`, 4000 * POSTS_SCALE, 16));
    cases[`${prefix}bridge (memory) REST, 1 msg/post, 16 clients`] = (r) => withServer(script, MEMORY_ENV, (s) => restPosts(s.restPort, `bm16x${r}`, 4000 * POSTS_SCALE, 16));
    cases[`${prefix}bridge (rabbitmq) REST, 1 msg/post, 64 clients`] = (r) => withServer(script, RABBIT_ENV, (s) => restPosts(s.restPort, `b64x${r}`, 6000 * POSTS_SCALE, 64));
  }
  const samples = await rounds(Object.keys(cases), (name, round) => (cases[name] as (r: number) => Promise<number>)(round));
  const raw1 = median(samples.get('raw amqplib → stream, confirms, 1 in flight') ?? []);
  const raw16 = median(samples.get('raw amqplib → stream, confirms, 16 in flight') ?? []);
  section(
    'Message throughput on RabbitMQ: REST posts vs raw amqplib publishing with confirms to a stream',
    [...samples].map(([name, xs]) => ({
      name,
      'msg/s': fmt(median(xs), 0),
      'vs raw, 1 in flight': fmt(median(xs) / raw1, 2),
      'vs raw, 16 in flight': fmt(median(xs) / raw16, 2),
    })),
    'Persistent messages of the size of a bridge post event; the raw rows publish straight to a stream queue with a confirm channel. A bridge post is acknowledged after the broker confirmed it and the pod read it back.',
  );

  const SUBS = 1000;
  const pods = [await startServer(BRIDGE, RABBIT_ENV), await startServer(BRIDGE, RABBIT_ENV)];
  try {
    const queue = `fan${Date.now() % 100000}`;
    const sockets = await openSubscribers(pods.map((p) => p.wsPort ?? 0), queue, SUBS);
    const lat = await postToNotification(pods.map((p) => p.restPort), sockets, queue, 100);
    await closeAll(sockets);
    section(`Post → notification latency, ${SUBS} subscribers across two pods (RabbitMQ)`, [
      { name: 'bridge ×2 (rabbitmq)', 'p50 ms': fmt(lat.p50Ms, 1), 'p99 ms': fmt(lat.p99Ms, 1), deliveries: lat.deliveries, expected: lat.expected },
    ], '100 posts one at a time, alternating between the pods; subscribers split evenly between them.');
  } finally {
    await Promise.all(pods.map((p) => p.stop()));
  }
}

// ── 5b. The same single-message posts against servers kept warm across rounds (BENCH_WARM_POSTS per round) ──
if ((ONLY.has('rabbitmq') || ONLY.has('warm')) && AMQP !== '') {
  const WARM_POSTS = Number(process.env['BENCH_WARM_POSTS'] ?? 20000);
  const warmTargets: WarmTarget[] = [
    ...bridgeBuilds().map(([prefix, script]) => ({ name: `warm: ${prefix}bridge (rabbitmq) REST, 1 msg/post, 16 clients`, script, env: RABBIT_ENV })),
    { name: 'warm: bridge (memory) REST, 1 msg/post, 16 clients (HTTP ceiling)', script: BRIDGE, env: MEMORY_ENV },
  ];
  section(
    'Single-message posts on RabbitMQ, servers kept warm across rounds',
    await warmPosts(AMQP, warmTargets, ROUNDS, WARM_POSTS, (line) => process.stderr.write(`${line}\n`)),
    `Each server is started once and warmed with ${Math.ceil(WARM_POSTS / 5)} posts; then every round posts ${WARM_POSTS} messages from 16 clients to each server in turn, starting with a different one each round (one queue per server, kept across rounds), and publishes ${WARM_POSTS} raw messages with 16 in flight. Medians of the rounds; CPU per message from /proc (server, the local broker's beam.smp, this load generator).`,
  );
}

// ── Single-post profile: client latency beside the bridge's stage timestamps (issue 11 §1) ──
if (ONLY.has('stages') && AMQP !== '') {
  const TOTAL = Number(process.env['BENCH_STAGES_POSTS'] ?? 2000);
  const floor = await rawFloor(AMQP, TOTAL);
  const rows: Row[] = [
    { name: 'raw amqplib, 1 in flight: publish → confirm', 'msg/s': '', 'client p50 ms': fmt(floor.confirmP50, 2), 'client p99 ms': fmt(floor.confirmP99, 2) },
    { name: 'raw amqplib, 1 in flight: publish → read back by a stream consumer', 'client p50 ms': fmt(floor.readBackP50, 2), 'client p99 ms': fmt(floor.readBackP99, 2) },
    { name: 'raw amqplib, 1 in flight: publish → both (read-your-writes floor)', 'client p50 ms': fmt(floor.bothP50, 2), 'client p99 ms': fmt(floor.bothP99, 2) },
  ];
  // BENCH_BEFORE: the bench/servers/bridge.js of another build (e.g. a worktree of an earlier
  // commit), profiled in the same run for a before/after comparison.
  const BEFORE = process.env['BENCH_BEFORE'] ?? '';
  // The before/after pair runs without stage timing on both sides (an earlier build has none).
  const STAGES_ON = { BENCH_STAGES: '1' };
  const targets: [string, string, Record<string, string>][] = [
    ['bridge (rabbitmq)', BRIDGE, { ...RABBIT_ENV, ...STAGES_ON }],
    ...(BEFORE === ''
      ? []
      : ([
          ['this build: bridge (rabbitmq), no stage timing', BRIDGE, RABBIT_ENV],
          ['before: bridge (rabbitmq), no stage timing', BEFORE, RABBIT_ENV],
        ] as [string, string, Record<string, string>][])),
    ['bridge (memory)', BRIDGE, { ...MEMORY_ENV, ...STAGES_ON }],
  ];
  const cases = targets.flatMap(([name, script, env]) => [1, 16, 64].map((clients) => ({ label: `${name}, ${clients} client${clients === 1 ? '' : 's'}`, script, env, clients })));
  const samples = await rounds(
    cases.map((c) => c.label),
    (label) => {
      const c = cases.find((x) => x.label === label) ?? cases[0]!;
      return withServer(c.script, c.env, (s) => profilePosts(s, `st${c.clients}${Date.now() % 100000}`, Math.max(TOTAL, 100 * c.clients), c.clients));
    },
  );
  for (const [label, profiles] of samples) {
    // The round of median throughput, whole: its stages belong with its client numbers.
    const p = [...profiles].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(profiles.length / 2)];
    if (p === undefined) continue;
    const st = p.stages;
    const cell = (k: keyof StageSummary): string => (st === undefined || st[k].n === 0 ? '–' : `${fmt(st[k].p50, 2)} / ${fmt(st[k].p99, 2)}`);
    rows.push({
      name: label,
      'msg/s': fmt(p.perSecond, 0),
      'client p50 ms': fmt(p.p50, 2),
      'client p99 ms': fmt(p.p99, 2),
      'server': cell('server'),
      'request → append': cell('toAppend'),
      'append → confirm': cell('confirm'),
      'append → read back': cell('readBack'),
      'settled → response': cell('toResponse'),
      'posts per record (mean)': st === undefined ? '–' : fmt(st.batch.mean, 2),
    });
  }
  section(
    'Where a single REST post\'s time goes (1 message per post; stage cells are p50 / p99 ms)',
    rows,
    `${TOTAL} posts per row (100 per client with more clients) after a warm-up; the row is the round of median throughput (of ${ROUNDS}, alternating). "server" is fastify's onRequest → onResponse; "request → append" is parsing, auth, validation and the engine up to the backend append (includes any wait for a group commit in flight); "append → confirm" is the broker's publisher confirm; "append → read back" is the record arriving through this pod's own stream tail (read-your-writes); "settled → response" is the later of the two → the reply written. Request → append and settled → response are sampled only while one request is open. The raw rows are amqplib on the same broker, one message at a time, nothing else in the process.`,
  );
}

if (AMQP !== '') {
  // Best effort: delete what the RabbitMQ runs declared (a local broker with rabbitmqctl).
  const { execFileSync } = await import('node:child_process');
  try {
    const names = execFileSync('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name'], { encoding: 'utf8' })
      .split('\n')
      .filter((n) => n.startsWith(`${RABBIT_ENV.RABBITMQ_EXCHANGE}.`));
    for (const n of names) execFileSync('rabbitmqctl', ['delete_queue', '-q', n]);
  } catch {
    process.stderr.write('note: could not delete the benchmark streams (no local rabbitmqctl)\n');
  }
}

process.stdout.write(`${out.join('\n')}\n\nrounds: ${ROUNDS} (median), node ${process.version}, ${new Date().toISOString()}\n`);
