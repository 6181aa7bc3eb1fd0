/** The live-notification coalescer (`_coalesce`) and its rule's parsing and validation. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesceRule, pointerValue, validateCoalesce, type CoalesceRule } from '../../../src/core/coalesce.js';
import type { Json, Notification } from '../../../src/core/types.js';
import { Coalescer } from '../../../src/transports/ws/coalescer.js';

let seq = 0;
const note = (body: Json): Notification => ({ project: 'p', queue: 'q', messageId: `m${++seq}`, marker: String(seq), ttl: 60, body });
const LIST = { name: 'invalidateCache', value: { type: 'processes', id: 'LIST' } };

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function make(rule: CoalesceRule | null): { c: Coalescer; out: Notification[]; setRule: (r: CoalesceRule | null) => void } {
  let current = rule;
  const out: Notification[] = [];
  return { c: new Coalescer(() => current, (n) => out.push(n)), out, setRule: (r) => (current = r) };
}

describe('Coalescer', () => {
  it('delivers a burst of equal keys once, the latest, when the window ends', async () => {
    const { c, out } = make({ windowMs: 250, key: '/value' });
    const burst = Array.from({ length: 1000 }, () => note(LIST));
    for (const n of burst) c.push(n);
    expect(out).toEqual([]);
    await vi.advanceTimersByTimeAsync(250);
    expect(out).toEqual([burst.at(-1)]);
    expect(c.coalesced).toBe(999);
  });

  it('keeps log order across keys and for messages without the key, inside a window', async () => {
    const { c, out } = make({ windowMs: 100, key: '/name' });
    const a1 = note({ name: 'a' });
    const plain = note({ other: 1 });
    const b1 = note({ name: 'b' });
    const a2 = note({ name: 'a' });
    for (const n of [a1, plain, b1, a2]) c.push(n);
    await vi.advanceTimersByTimeAsync(100);
    expect(out.map((n) => n.marker)).toEqual([plain.marker, b1.marker, a2.marker]);
  });

  it('passes messages through at once outside a window, and when the queue has no rule', async () => {
    const { c, out, setRule } = make({ windowMs: 100, key: '/name' });
    const plain = note({ other: 1 });
    c.push(plain);
    expect(out).toEqual([plain]);
    setRule(null);
    const x = note({ name: 'x' });
    c.push(x);
    expect(out).toEqual([plain, x]);
  });

  it('treats key values by JSON equality, and drops what is pending on close', async () => {
    const { c, out } = make({ windowMs: 50, key: '/value' });
    c.push(note({ value: { type: 'processes', id: 'LIST' } }));
    c.push(note({ value: { type: 'processes', id: 'x' } }));
    c.close();
    await vi.advanceTimersByTimeAsync(100);
    expect(out).toEqual([]);
  });
});

describe('the _coalesce rule', () => {
  it('accepts {window_ms, key} and null, and refuses anything else with the expected shape', () => {
    expect(() => validateCoalesce({ window_ms: 250, key: '/name' })).not.toThrow();
    expect(() => validateCoalesce({ window_ms: 1, key: '' })).not.toThrow();
    expect(() => validateCoalesce(null)).not.toThrow();
    for (const bad of [{}, { window_ms: 0, key: '/n' }, { window_ms: 60_001, key: '/n' }, { window_ms: 1.5, key: '/n' }, { window_ms: 10, key: 'name' }, { window_ms: 10, key: '/a~2' }, { window_ms: 10, key: '/n', x: 1 }, 'fast', [1]]) {
      expect(() => validateCoalesce(bad), JSON.stringify(bad)).toThrow(/_coalesce must be an object \{"window_ms": <integer 1\.\.60000>, "key": "<JSON pointer/);
    }
  });

  it('reads the rule from metadata, and resolves JSON pointers (RFC 6901)', () => {
    expect(coalesceRule({ _coalesce: { window_ms: 250, key: '/name' } })).toEqual({ windowMs: 250, key: '/name' });
    expect(coalesceRule({})).toBeNull();
    expect(coalesceRule(undefined)).toBeNull();
    const body = { 'a/b': { '~k': [10, 20] }, name: null };
    expect(pointerValue(body, '/a~1b/~0k/1')).toBe(20);
    expect(pointerValue(body, '/name')).toBeNull();
    expect(pointerValue(body, '/missing')).toBeUndefined();
    expect(pointerValue(body, '/a~1b/~0k/01')).toBeUndefined();
    expect(pointerValue(body, '')).toEqual(body);
    expect(pointerValue('text', '/x')).toBeUndefined();
  });
});
