import { describe, expect, it } from 'vitest';
import { pyJson } from '../../../src/lib/py-json.js';

describe('pyJson (Python json.dumps defaults)', () => {
  it('puts a space after structural separators only', () => {
    expect(pyJson({ a: [1, 2, { b: null }], c: 'x, y: z' })).toBe('{"a": [1, 2, {"b": null}], "c": "x, y: z"}');
    expect(pyJson([])).toBe('[]');
    expect(pyJson({})).toBe('{}');
    expect(pyJson('plain')).toBe('"plain"');
    expect(pyJson(undefined)).toBe('null');
    expect(pyJson({ skip: undefined, keep: true })).toBe('{"keep": true}');
  });

  it('escapes non-ASCII like ensure_ascii, and keeps escaped quotes and backslashes in strings', () => {
    expect(pyJson({ 'clé': 'café ✓ 😀' })).toBe('{"cl\\u00e9": "caf\\u00e9 \\u2713 \\ud83d\\ude00"}');
    expect(pyJson(['a "quoted", b: c', 'back\\slash, x'])).toBe('["a \\"quoted\\", b: c", "back\\\\slash, x"]');
    expect(pyJson('line\nbreak\t\u0001')).toBe('"line\\nbreak\\t\\u0001"');
  });
});
