/**
 * Cost of schema validation on the post path, side by side with the JSON.parse of the same
 * post body (a batch of 10 real TripleO messages, reference real-clients.md §4.3).
 *
 * Run: `npx vitest bench --run bench/validation.bench.ts`. vitest prints each case's ops/s
 * and, per group, how many times faster the fastest case is than the others; this file also
 * prints the ratios `(parse + validate) / parse` with and without a schema bound, measured
 * with a plain timing loop after the vitest cases.
 */
import { afterAll, bench, describe } from 'vitest';
import { loadSchemaRegistry } from '../src/validation/index.js';
import {
  ANSIBLE_CHUNK,
  DEPLOY_PLAN_START,
  PROVIDE_2018,
  REGISTER_OR_UPDATE_RESULT,
  SEND_2018,
  SUB_WORKFLOW_2019,
} from '../test/unit/validation/real-bodies.js';

// A realistic batch: mostly small status messages, one 4 KiB ansible chunk.
const bigChunk = { ...ANSIBLE_CHUNK, payload: { ...ANSIBLE_CHUNK.payload, message: 'ok: [overcloud-controller-0]\n'.repeat(140) } };
const BODIES = [
  DEPLOY_PLAN_START, REGISTER_OR_UPDATE_RESULT, bigChunk, PROVIDE_2018, SEND_2018,
  SUB_WORKFLOW_2019, DEPLOY_PLAN_START, SEND_2018, ANSIBLE_CHUNK, REGISTER_OR_UPDATE_RESULT,
];
const POST_BODY = JSON.stringify({ messages: BODIES.map((body) => ({ ttl: 3600, body })) });

const registry = await loadSchemaRegistry({ queueSchemas: [{ pattern: 'tripleo*', schema: 'tripleo-workflow-message-v1' }] });
const BOUND = 'tripleo';
const UNBOUND = 'other-queue';
const NO_METADATA: Readonly<Record<string, unknown>> = {};

interface Post {
  readonly messages: readonly { readonly body: unknown }[];
}

function parseOnly(): Post {
  return JSON.parse(POST_BODY) as Post;
}

function parseAndValidate(queue: string): void {
  const post = parseOnly();
  const err = registry.validate(queue, NO_METADATA, post.messages.map((m) => m.body));
  if (err !== null) throw new Error(err);
}

describe(`post of ${BODIES.length} messages (${POST_BODY.length} bytes)`, () => {
  bench('JSON.parse only (baseline)', () => {
    parseOnly();
  });
  bench('JSON.parse + validate, schema bound (tripleo*)', () => {
    parseAndValidate(BOUND);
  });
  bench('JSON.parse + validate, no schema bound', () => {
    parseAndValidate(UNBOUND);
  });
});

/** Mean ns per call of `fn` over `ms` milliseconds, after a warm-up. */
function timeIt(fn: () => void, ms: number): number {
  for (let i = 0; i < 2_000; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / n;
}

afterAll(() => {
  const base = timeIt(parseOnly, 1_000);
  const bound = timeIt(() => parseAndValidate(BOUND), 1_000);
  const unbound = timeIt(() => parseAndValidate(UNBOUND), 1_000);
  const validateOnly = timeIt(() => registry.validate(BOUND, NO_METADATA, BODIES), 1_000);
  const f = (ns: number): string => `${(ns / 1000).toFixed(2)} µs`;
  console.log(
    [
      `validation bench: ${BODIES.length} messages, ${POST_BODY.length} bytes`,
      `  JSON.parse only            ${f(base)}`,
      `  parse + validate (bound)   ${f(bound)}  ratio ${(bound / base).toFixed(3)}`,
      `  parse + validate (unbound) ${f(unbound)}  ratio ${(unbound / base).toFixed(3)}`,
      `  validate only (bound)      ${f(validateOnly)}  = ${((validateOnly / base) * 100).toFixed(1)} % of JSON.parse`,
    ].join('\n'),
  );
});
