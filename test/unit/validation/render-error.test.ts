import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchemaRegistry, type SchemaRegistry } from '../../../src/validation/index.js';

// Operator-style schemas exercising the error renderer on keywords our shipped schemas use
// little: oneOf/anyOf without x-message, numbers, arrays, formats.
const SCHEMAS: Readonly<Record<string, unknown>> = {
  'shapes-v1': {
    oneOf: [
      { type: 'object', required: ['kind', 'size'], properties: { kind: { const: 'box' }, size: { type: 'integer', minimum: 1 } } },
      { type: 'object', required: ['kind', 'radius'], properties: { kind: { const: 'ball' }, radius: { type: 'number' } } },
    ],
  },
  'misc-v1': {
    type: 'object',
    properties: {
      tags: { type: 'array', maxItems: 2, items: { type: 'string', minLength: 2 } },
      at: { type: 'string', format: 'date-time' },
      count: { type: 'integer', maximum: 10 },
    },
  },
};

let dir: string;
let registry: SchemaRegistry;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zb-render-'));
  for (const [name, schema] of Object.entries(SCHEMAS)) await writeFile(join(dir, `${name}.json`), JSON.stringify(schema));
  registry = await loadSchemaRegistry({ extraDir: dir });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function check(schema: string, body: unknown): string | null {
  return registry.validate('q', { _schema: schema }, [body]);
}

describe('error rendering', () => {
  it('picks a specific branch error over "must match exactly one schema in oneOf"', () => {
    expect(check('shapes-v1', { kind: 'box', size: 0 })).toBe('Message 1 is invalid: /size must be >= 1');
    expect(check('shapes-v1', { kind: 'box', size: 'big' })).toBe('Message 1 is invalid: /size must be an integer');
  });

  it('falls back to the first of equally deep errors', () => {
    expect(check('shapes-v1', {})).toBe("Message 1 is invalid: / must have required property 'kind'");
  });

  it('renders other keywords readably', () => {
    expect(check('misc-v1', { tags: ['a'] })).toBe('Message 1 is invalid: /tags/0 must have at least 2 characters');
    expect(check('misc-v1', { tags: ['ab', 'cd', 'ef'] })).toBe('Message 1 is invalid: /tags must not have more than 2 items');
    expect(check('misc-v1', { at: 'yesterday' })).toBe('Message 1 is invalid: /at must be a valid date-time');
    expect(check('misc-v1', { count: 11 })).toBe('Message 1 is invalid: /count must be <= 10');
    expect(check('misc-v1', { count: 1.5 })).toBe('Message 1 is invalid: /count must be an integer');
    expect(check('misc-v1', { tags: 'a' })).toBe('Message 1 is invalid: /tags must be an array');
  });
});
