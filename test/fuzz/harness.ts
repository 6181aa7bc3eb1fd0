/**
 * Shared pieces of the adversarial suite (docs/fuzzing.md): a whole app on the embedded
 * backend on real sockets, the seed and volume knobs, value generators for hostile inputs,
 * and the health check every fuzz run ends with (the queue still lists, counts and notifies).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { TestWsClient } from '../fixtures/ws-client.js';

export const PROJECT = 'proj-fuzz';
export const CLIENT = '7b9c1d2e-3f40-4a51-8b62-9c73d84e95f6';
export const HEADERS = { 'Client-ID': CLIENT, 'X-Project-ID': PROJECT };

/** `FUZZ_SEED` replays a run; otherwise a fresh seed, printed so a failure can be replayed. */
export function fuzzSeed(suite: string): number {
  const given = process.env['FUZZ_SEED'];
  const seed = given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  // Printed even on success: a failure report then always carries its seed.
  console.log(`[fuzz ${suite}] seed ${seed} (replay: FUZZ_SEED=${seed}), runs ${fuzzRuns()}`);
  return seed;
}

/** Inputs per property: `FUZZ_RUNS`, default 2,000 (a few seconds each on 2 cores). */
export function fuzzRuns(): number {
  const n = Number(process.env['FUZZ_RUNS'] ?? '');
  return Number.isInteger(n) && n > 0 ? n : 2_000;
}

export interface FuzzApp {
  readonly app: App;
  readonly restPort: number;
  readonly wsPort: number;
  close(): Promise<void>;
}

export async function startFuzzApp(): Promise<FuzzApp> {
  const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' } });
  const app = buildApp(config, { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  const { restPort, wsPort } = await app.start();
  return { app, restPort, wsPort, close: () => app.close() };
}

/** Queue names: a few valid ones (so actions meet state), and hostile ones. */
export const queueName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('fuzz', 'fuzz-2', 'tripleo') },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '../x', 'a'.repeat(65), 'q\u0000', 'é', '%2F', 'fuzz/../x') },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })) },
);

/** Huge and odd numbers. */
const oddNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 2 ** 63, 1.5, -0, 1e-300, 60, 300, 3600, 1_209_600, 43_200),
  fc.double(),
);

/** A value nested `depth` levels deep (arrays or objects). */
function nested(depth: number, leaf: unknown, object: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = object ? { k: v } : [v];
  return v;
}

/** Any JSON-ish value, biased towards what breaks parsers and validators. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.string({ minLength: 1_000, maxLength: 20_000, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\ud800', '\udfff', '\u0000', '\u202e', '\ufeff', '"', '\\') }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 60, max: 400 }), fc.boolean()).map(([d, o]) => nested(d, 1, o)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, '', 'next', 'first', '9000000000000000', '-1', 'NaN') },
);

/** Body keys of every WebSocket action (reference §3.5), to be filled with hostile values. */
export const BODY_KEYS = [
  'queue_name', 'metadata', 'marker', 'limit', 'detailed', 'resource_types', 'echo', 'include_claimed',
  'include_delayed', 'message_id', 'message_ids', 'messages', 'claim_id', 'pop', 'ttl', 'grace', 'subscriber',
  'subscription_id', 'options',
] as const;

/** Values a real client would send for each body key, so that fuzzed frames reach the handlers. */
export const PLAUSIBLE: Readonly<Record<(typeof BODY_KEYS)[number], fc.Arbitrary<unknown>>> = {
  queue_name: fc.constantFrom('fuzz', 'fuzz-2', 'tripleo'),
  metadata: fc.oneof(fc.constant({}), fc.record({ _default_message_ttl: fc.constantFrom(60, 300, 10), _max_messages_post_size: fc.constantFrom(1_000, 262_144), note: fc.string() }, { requiredKeys: [] })),
  marker: fc.oneof(fc.constantFrom('next', 'first', '0', '100001', '9000000000000000'), fc.nat().map(String)),
  limit: fc.integer({ min: -1, max: 25 }),
  detailed: fc.boolean(),
  resource_types: fc.subarray(['messages', 'subscriptions']),
  echo: fc.boolean(),
  include_claimed: fc.boolean(),
  include_delayed: fc.boolean(),
  message_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
  message_ids: fc.array(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })), { maxLength: 5 }),
  messages: fc.array(fc.record({ body: fc.jsonValue({ maxDepth: 3 }), ttl: fc.constantFrom(60, 300, 3600) }, { requiredKeys: ['body'] }), { minLength: 1, maxLength: 4 }),
  claim_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
  pop: fc.integer({ min: 0, max: 25 }),
  ttl: fc.constantFrom(60, 300, 3600, 59, 43_201),
  grace: fc.constantFrom(60, 300, 0),
  subscriber: fc.constantFrom('http://127.0.0.1:9/hook', 'mailto:ops@example.com', 'ftp://x', ''),
  subscription_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
  options: fc.oneof(fc.constant({}), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })),
};

/** For each key, mostly a plausible value, sometimes a hostile one. */
export function fieldValue(key: (typeof BODY_KEYS)[number]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: PLAUSIBLE[key] }, { weight: 1, arbitrary: key === 'queue_name' ? queueName : hostile });
}

/** A `messages` list, sometimes well formed. */
export const messagesValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(fc.record({ body: hostile, ttl: fc.oneof(oddNumber, hostile) }, { requiredKeys: [] }), { maxLength: 4 }),
  fc.array(fc.record({ body: fc.jsonValue({ maxDepth: 2 }), ttl: fc.constantFrom(60, 300) }), { minLength: 1, maxLength: 3 }),
  hostile,
);

/**
 * After a run: the app still serves, `fuzz` lists and counts, and a fresh subscriber gets a
 * message posted over REST. Returns the messages the queue lists.
 */
export async function expectQueueStillWorks(target: FuzzApp): Promise<void> {
  const base = `http://127.0.0.1:${target.restPort}`;
  const headers = { ...HEADERS, 'content-type': 'application/json' };
  const c = await TestWsClient.connect(`ws://127.0.0.1:${target.wsPort}/`);
  try {
    const sub = (await c.request({ action: 'subscription_create', headers: HEADERS, body: { queue_name: 'fuzz', ttl: 3600 } })) as {
      headers: { status: number };
    };
    expect(sub.headers.status).toBe(201);
    const post = await fetch(`${base}/v2/queues/fuzz/messages`, { method: 'POST', headers, body: '{"messages": [{"ttl": 300, "body": "after the fuzz"}]}' });
    expect(post.status).toBe(201);
    for (;;) {
      const frame = (await c.nextValue(10_000)) as { body?: unknown; request?: unknown };
      if (frame.request === undefined && frame.body === 'after the fuzz') break;
    }
    const list = await fetch(`${base}/v2/queues/fuzz/messages?echo=true&limit=20`, { headers });
    expect(list.status).toBe(200);
    await list.json();
    const stats = await fetch(`${base}/v2/queues/fuzz/stats`, { headers });
    expect(stats.status).toBe(200);
    expect(((await stats.json()) as { messages: { total: number } }).messages.total).toBeGreaterThan(0);
  } finally {
    await c.close();
  }
}

/** Status counts of a run, printed for docs/fuzzing.md. */
export class Tally {
  readonly #byStatus = new Map<number, number>();
  tried = 0;

  add(status: number): void {
    this.tried++;
    this.#byStatus.set(status, (this.#byStatus.get(status) ?? 0) + 1);
  }

  get(status: number): number {
    return this.#byStatus.get(status) ?? 0;
  }

  print(suite: string): void {
    const statuses = [...this.#byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`[fuzz ${suite}] tried ${this.tried}, answered ${this.tried}, by status: ${statuses}`);
  }
}
