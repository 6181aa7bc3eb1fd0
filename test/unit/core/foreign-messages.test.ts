/**
 * What a payload published straight to the exchange means (README "Publishing straight to the
 * exchange", docs/publishing.md): only a Zaqar envelope is unwrapped; every other JSON value,
 * including a workflow message that happens to have a `body` key, is stored as it is.
 */
import { describe, expect, it } from 'vitest';
import { ZaqarError } from '../../../src/core/errors.js';
import { foreignMessages } from '../../../src/core/parse.js';
import type { Json } from '../../../src/core/types.js';

describe('foreignMessages', () => {
  it('takes {"messages": [...]} as a Zaqar post', () => {
    expect(foreignMessages({ messages: [{ body: 1, ttl: 60 }, { body: { a: 2 } }] })).toEqual([{ body: 1, ttl: 60 }, { body: { a: 2 } }]);
  });

  it('takes an envelope with body, ttl and delay as one message, passing delay on', () => {
    expect(foreignMessages({ body: 'x' })).toEqual([{ body: 'x' }]);
    expect(foreignMessages({ body: 'x', ttl: 300 })).toEqual([{ body: 'x', ttl: 300 }]);
    expect(foreignMessages({ body: 'x', ttl: 300, delay: 5 })).toEqual([{ body: 'x', ttl: 300, delay: 5 }]);
    expect(foreignMessages({ body: null })).toEqual([{ body: null }]);
  });

  it('stores an object with a body key among other keys whole', () => {
    const workflow = { type: 'tripleo.deployment.v1.deploy_plan', body: 'a status line', execution_id: 'e-1' };
    expect(foreignMessages(workflow)).toEqual([{ body: workflow }]);
    const withTtl = { body: 'x', ttl: 60, source: 'mistral' };
    expect(foreignMessages(withTtl)).toEqual([{ body: withTtl }]);
  });

  it('stores an object with messages beside other keys, or messages that are not a list, whole', () => {
    const beside = { messages: [{ body: 1 }], execution_id: 'e-2' };
    expect(foreignMessages(beside)).toEqual([{ body: beside }]);
    const notList = { messages: 'three new messages' };
    expect(foreignMessages(notList)).toEqual([{ body: notList }]);
  });

  it('stores the usual workflow message and any other JSON value whole', () => {
    const values: Json[] = [{ type: 't', payload: { status: 'RUNNING' } }, [1, 2], 'text', 42, true, null, {}];
    for (const v of values) expect(foreignMessages(v)).toEqual([{ body: v }]);
  });

  it('refuses an envelope whose ttl or delay is not a number', () => {
    expect(() => foreignMessages({ body: 1, ttl: '60' })).toThrow(ZaqarError);
    expect(() => foreignMessages({ body: 1, delay: 'soon' })).toThrow(/delay/);
    expect(() => foreignMessages({ messages: [{ body: 1, ttl: 'x' }] })).toThrow(/ttl/);
  });

  it('refuses a post item without a body', () => {
    expect(() => foreignMessages({ messages: [{ ttl: 60 }] })).toThrow(/body/);
    expect(() => foreignMessages({ messages: [3] })).toThrow(/body/);
  });

  it('gives an empty post no messages (the engine refuses it)', () => {
    expect(foreignMessages({ messages: [] })).toEqual([]);
  });
});
