import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchemaRegistry, type SchemaRegistry } from '../../../src/validation/index.js';
import { ORCHESTRATOR_TABLE } from './real-bodies.js';

const META = { _schema: 'orchestrator-event-v1' };
let registry: SchemaRegistry;

beforeAll(async () => {
  registry = await loadSchemaRegistry();
});

function check(body: unknown): string | null {
  return registry.validate('events', META, [body]);
}

describe('orchestrator-event-v1: every row of the seed table passes', () => {
  it.each(ORCHESTRATOR_TABLE.map((b) => [JSON.stringify(b), b] as const))('%s', (_label, body) => {
    expect(check(body)).toBeNull();
  });

  it('accepts the whole table as one batch', () => {
    expect(registry.validate('events', META, ORCHESTRATOR_TABLE)).toBeNull();
  });
});

describe('orchestrator-event-v1: near misses fail with a clear text', () => {
  const ok = { name: 'invalidateCache', value: { type: 'processes', id: 'LIST' } };
  const cases: readonly (readonly [string, unknown, string])[] = [
    ['another name', { ...ok, name: 'invalidate' }, '/name must be "invalidateCache"'],
    ['no value', { name: 'invalidateCache' }, "/ must have required property 'value'"],
    ['extra top-level key', { ...ok, data: {} }, "/ must not have additional property 'data'"],
    ['unknown type', { name: 'invalidateCache', value: { type: 'workflows', id: 'LIST' } },
      '/value/type must be one of processes, subscriptions, processStatusCounts, engineStatus'],
    ['value without type', { name: 'invalidateCache', value: { id: 'LIST' } }, "/value must have required property 'type'"],
    ['processes without id', { name: 'invalidateCache', value: { type: 'processes' } }, "/value must have required property 'id'"],
    ['subscriptions without id', { name: 'invalidateCache', value: { type: 'subscriptions' } },
      "/value must have required property 'id'"],
    ['id neither LIST nor UUID', { name: 'invalidateCache', value: { type: 'processes', id: 'list' } },
      '/value/id must be "LIST" or a UUID'],
    ['id a truncated UUID', { name: 'invalidateCache', value: { type: 'subscriptions', id: '5a4b3c2d-1e0f-4a9b-8c7d' } },
      '/value/id must be "LIST" or a UUID'],
    ['id a number', { name: 'invalidateCache', value: { type: 'processes', id: 12 } }, '/value/id must be a string'],
    ['engineStatus with an id', { name: 'invalidateCache', value: { type: 'engineStatus', id: 'LIST' } },
      '/value/id must be absent when type is processStatusCounts or engineStatus'],
    ['processStatusCounts with an id', { name: 'invalidateCache', value: { type: 'processStatusCounts', id: 'LIST' } },
      '/value/id must be absent when type is processStatusCounts or engineStatus'],
    ['extra key in value', { name: 'invalidateCache', value: { type: 'processes', id: 'LIST', data: {} } },
      "/value must not have additional property 'data'"],
    ['value a string', { name: 'invalidateCache', value: 'processes' }, '/value must be an object'],
    ['a TripleO body', { type: 'tripleo.x.v1.y', payload: {} }, "/ must have required property 'name'"],
  ];
  it.each(cases)('%s', (_label, body, expected) => {
    expect(check(body)).toBe(`Message 1 is invalid: ${expected}`);
  });
});
