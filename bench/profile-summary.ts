/**
 * Sums a V8 CPU profile's self time by area, for the profile of the single-post path (issue 11 §1):
 *
 *   BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' BENCH_ONLY=stages npm run bench
 *   node .bench-out/bench/profile-summary.js /tmp/prof/*.cpuprofile
 *
 * Areas: each file of ours (`src/…`), each package (`amqplib`, `fastify`, …), node's own
 * JavaScript (`node:internal`), and V8's pseudo-frames (`(garbage collector)`, `(program)`,
 * `(idle)`), from the first request on. Prints one table per profile, busiest first, with shares of the non-idle time.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly url: string; readonly functionName: string };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] ?? url;
  const ours = /\/(src|bench)\/(.*)\.js$/.exec(url);
  if (ours !== null) return `${ours[1] ?? ''}/${ours[2] ?? ''}`;
  return url;
}

/**
 * Self time per area, from the first sample in the HTTP transport on: start-up (module loading,
 * schema compilation) is not part of the path being profiled.
 */
export function summarize(profile: Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, area(n.callFrame.url, n.callFrame.functionName)]));
  const totals = new Map<string, number>();
  let serving = false;
  profile.samples.forEach((id, i) => {
    const a = byId.get(id) ?? '?';
    serving ||= a.startsWith('src/transports/http');
    if (!serving) return;
    totals.set(a, (totals.get(a) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
}

const files = process.argv.slice(2);
for (const file of files) {
  const totals = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const busy = [...totals].filter(([a]) => a !== '(idle)').reduce((s, [, ms]) => s + ms, 0);
  process.stdout.write(`\n${file}: ${busy.toFixed(0)} ms busy, ${(totals.get('(idle)') ?? 0).toFixed(0)} ms idle\n\n| area | self ms | share of busy |\n| --- | --- | --- |\n`);
  for (const [a, ms] of [...totals].filter(([x]) => x !== '(idle)').sort((x, y) => y[1] - x[1]).slice(0, 25)) {
    process.stdout.write(`| ${a} | ${ms.toFixed(0)} | ${((100 * ms) / busy).toFixed(1)} % |\n`);
  }
}
