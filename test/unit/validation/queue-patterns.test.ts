import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../../src/validation/index.js';

describe('compileGlob (shell-style queue patterns)', () => {
  it.each([
    ['tripleo*', 'tripleo', true],
    ['tripleo*', 'tripleo-ui-logging', true],
    ['tripleo*', 'my-tripleo', false],
    ['tripleo*', 'TripleO', false],
    ['*-events', 'orchestrator-events', true],
    ['*-events', 'orchestrator-events-old', false],
    ['tenant?-ops', 'tenant1-ops', true],
    ['tenant?-ops', 'tenant-ops', false],
    ['tenant?-ops', 'tenant12-ops', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['*', 'anything_at-all', true],
    ['a**b', 'ab', true],
  ])('%s vs %s → %s', (pattern, queue, expected) => {
    expect(compileGlob(pattern).test(queue)).toBe(expected);
  });

  it.each(['', 'tripleo.*', 'a|b', '[ab]*', '^tripleo', 'trip leo'])('rejects %j', (pattern) => {
    expect(() => compileGlob(pattern)).toThrow(`Invalid queue pattern '${pattern}'`);
  });
});
