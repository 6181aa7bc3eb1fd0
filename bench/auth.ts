/**
 * REST post rate with AUTH_STRATEGY=keystone (validations cached) vs noauth, in one run, in
 * alternating rounds, against a real Keystone started like the tests' (test/fixtures/keystone.ts).
 *
 *   npx tsc -p tsconfig.bench.json && ln -sfn ../schemas .bench-out/schemas && node .bench-out/bench/auth.js
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, Keystone } from '../test/fixtures/keystone.js';
import { startServer, type RunningServer } from './lib/child.js';
import { load } from './lib/http-load.js';
import { median } from './lib/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? '3');
const TOTAL = 3000;
const CONCURRENCY = 16;
const BRIDGE = fileURLToPath(new URL('./servers/bridge.js', import.meta.url));

const ks = await Keystone.start(3600);
const token = await ks.adminToken();
const servers: Record<string, RunningServer> = {};
try {
  servers['noauth'] = await startServer(BRIDGE, { RABBITMQ_URL: '', AUTH_STRATEGY: 'noauth' });
  servers['keystone'] = await startServer(BRIDGE, {
    RABBITMQ_URL: '',
    AUTH_STRATEGY: 'keystone',
    KEYSTONE_URL: ks.url,
    KEYSTONE_USERNAME: 'admin',
    KEYSTONE_PASSWORD: ADMIN_PASSWORD,
    KEYSTONE_PROJECT_NAME: 'admin',
  });
  const headers: Record<string, Record<string, string>> = {
    noauth: { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench', 'content-type': 'application/json' },
    keystone: { 'Client-ID': randomUUID(), 'X-Auth-Token': token, 'content-type': 'application/json' },
  };
  const samples: Record<string, number[]> = { noauth: [], keystone: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of ['keystone', 'noauth']) {
      const s = servers[name];
      if (s === undefined) throw new Error(name);
      const res = await load(
        s.restPort,
        (i) => ({ method: 'POST', path: `/v2/queues/authbench${r}/messages`, headers: headers[name] ?? {}, body: JSON.stringify({ messages: [{ body: { i } }] }) }),
        TOTAL,
        CONCURRENCY,
      );
      if (res.errors > 0) throw new Error(`${name}: ${res.errors} errors`);
      samples[name]?.push(res.perSecond);
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${name}: ${res.perSecond.toFixed(0)} posts/s\n`);
    }
  }
  const k = median(samples['keystone'] ?? []);
  const n = median(samples['noauth'] ?? []);
  process.stdout.write(`REST post rate (memory, ${CONCURRENCY} loops): keystone ${k.toFixed(0)}/s, noauth ${n.toFixed(0)}/s, ratio ${(k / n).toFixed(2)}\n`);
} finally {
  await Promise.all(Object.values(servers).map((s) => s.stop()));
  await ks.stop();
}
