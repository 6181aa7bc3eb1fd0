/** What counts as a value JSON cannot carry, and how its field is named. */
import { ExtData } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { findNonJsonValue, formatPath } from '../../../src/core/json-values.js';

describe('findNonJsonValue', () => {
  it('passes every JSON value, including objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['k'] = [1, 'two', null, true, { x: -0.5 }];
    for (const v of [null, 0, 1e308, -1e-300, '', 'x', false, [], {}, bare, JSON.parse('{"a": [{"b": 1}]}') as unknown]) {
      expect(findNonJsonValue(v)).toBeNull();
    }
  });

  it.each([
    [Infinity, 'the number Infinity'],
    [-Infinity, 'the number -Infinity'],
    [NaN, 'the number NaN'],
    [Uint8Array.of(1, 2), 'binary data (MessagePack bin)'],
    [new Date(0), 'a timestamp (MessagePack timestamp extension)'],
    [new ExtData(7, Uint8Array.of(1)), 'a MessagePack extension type'],
    [new Map(), 'a Map'],
    [10n, 'a bigint'],
    [undefined, 'undefined'],
  ])('refuses %s as %s, at the root and nested', (value, what) => {
    expect(findNonJsonValue(value)).toEqual({ path: [], what });
    expect(findNonJsonValue({ a: [0, { 'odd key': value }] })).toEqual({ path: ['a', 1, 'odd key'], what });
  });

  it('reports the first offending value in document order', () => {
    expect(findNonJsonValue({ ok: 1, first: [Infinity], second: NaN })?.path).toEqual(['first', 0]);
  });
});

describe('formatPath', () => {
  it('writes identifiers with dots, indexes and other keys in brackets', () => {
    expect(formatPath('messages[0].body', ['a', 1, 'odd key', '$ok', '9x'])).toBe('messages[0].body.a[1]["odd key"].$ok["9x"]');
    expect(formatPath('metadata', [])).toBe('metadata');
  });
});
