/**
 * Two REST inputs the fuzzer (test/fuzz/rest.fuzz.test.ts) found answered in fastify's or
 * Node's own shape instead of Zaqar's: a URL whose %-escapes are not UTF-8, and bytes that are
 * not HTTP (a body sent without framing after a request).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFuzzApp, type FuzzApp } from '../fuzz/harness.js';

let target: FuzzApp;
beforeAll(async () => {
  target = await startFuzzApp();
});
afterAll(async () => {
  await target.close();
});

/** Sends raw bytes, returns everything the server wrote before closing. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(target.restPort, '127.0.0.1', () => s.end(bytes));
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString('utf8')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

describe('REST input that never reaches a route', () => {
  it('answers a URL with invalid %-escapes with 400 in Zaqar\'s shape', async () => {
    const res = await fetch(`http://127.0.0.1:${target.restPort}/v2/queues/%ff%fe/stats`, {
      headers: { 'Client-ID': '7b9c1d2e-3f40-4a51-8b62-9c73d84e95f6', 'X-Project-ID': 'p' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['title', 'description']);
  });

  it('answers bytes that are not HTTP with a Zaqar-shaped 400 and closes', async () => {
    const out = await raw('GET / HTTP/1.1\r\nHost: x\r\n\r\n{}');
    const responses = out.split('HTTP/1.1 ').filter((r) => r !== '');
    expect(responses).toHaveLength(2);
    expect(responses[1]).toMatch(/^400 Bad Request\r\n/);
    expect(responses[1]).toContain('{"title": "Bad request", "description": "The request could not be parsed as HTTP."}');
  });
});
