import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BUILTIN_SCHEMA_DIR,
  MESSAGE_INDEX_BASE,
  SCHEMA_METADATA_KEY,
  loadSchemaRegistry,
  type SchemaRegistry,
} from '../../../src/validation/index.js';
import { ANSIBLE_CHUNK, DEPLOY_PLAN_START, ORCHESTRATOR_TABLE } from './real-bodies.js';

const WORKFLOW = 'tripleo-workflow-message-v1';
const ORCHESTRATOR = 'orchestrator-event-v1';
const BAD_STATUS = { ...DEPLOY_PLAN_START, payload: { ...DEPLOY_PLAN_START.payload, status: 'DONE' } };

const tempDirs: string[] = [];
async function schemaDir(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zb-schemas-'));
  tempDirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('shipped schemas', () => {
  let registry: SchemaRegistry;
  beforeAll(async () => {
    registry = await loadSchemaRegistry();
  });

  it('lists both with their titles, sorted by name', () => {
    expect(registry.list()).toEqual([
      { name: ORCHESTRATOR, title: 'Orchestrator events channel message' },
      { name: WORKFLOW, title: 'TripleO workflow message' },
    ]);
  });

  it.each([WORKFLOW, ORCHESTRATOR])('%s has an $id naming it, a title, a version and examples', (name) => {
    const doc = registry.get(name);
    expect(doc?.['$id']).toBe(`https://zaqar-bridge.dev/schemas/messages/${name}.json`);
    expect(doc?.['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(typeof doc?.['title']).toBe('string');
    expect(doc?.['x-version']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Array.isArray(doc?.['examples']) && (doc['examples'] as unknown[]).length > 0).toBe(true);
  });

  it.each([WORKFLOW, ORCHESTRATOR])('every example embedded in %s validates against it', (name) => {
    const examples = registry.get(name)?.['examples'] as readonly unknown[];
    examples.forEach((example, i) => {
      expect(registry.validate('q', { _schema: name }, [example]), `example ${i}`).toBeNull();
    });
  });

  it('returns the schema document, frozen, and undefined for an unknown name', () => {
    const doc = registry.get(WORKFLOW);
    expect(Object.isFrozen(doc)).toBe(true);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('knows its schemas by short name only', () => {
    expect(registry.hasSchema(WORKFLOW)).toBe(true);
    expect(registry.hasSchema(ORCHESTRATOR)).toBe(true);
    expect(registry.hasSchema('tripleo-workflow-message-v2')).toBe(false);
    expect(registry.hasSchema(`${WORKFLOW}.json`)).toBe(false);
    expect(registry.hasSchema('')).toBe(false);
  });

  it('resolves the shipped directory to schemas/messages', () => {
    expect(BUILTIN_SCHEMA_DIR.replace(/\\/g, '/')).toMatch(/\/schemas\/messages\/?$/);
  });
});

describe('batches', () => {
  let registry: SchemaRegistry;
  beforeAll(async () => {
    registry = await loadSchemaRegistry();
  });
  const meta = { [SCHEMA_METADATA_KEY]: WORKFLOW };

  it('counts messages from 1 and names the first bad one', () => {
    expect(MESSAGE_INDEX_BASE).toBe(1);
    expect(registry.validate('tripleo', meta, [DEPLOY_PLAN_START, BAD_STATUS, ANSIBLE_CHUNK, BAD_STATUS])).toBe(
      'Message 2 is invalid: /payload/status must be one of RUNNING, SUCCESS, FAILED',
    );
  });

  it('accepts a batch of valid bodies and an empty batch', () => {
    expect(registry.validate('tripleo', meta, [DEPLOY_PLAN_START, ANSIBLE_CHUNK])).toBeNull();
    expect(registry.validate('tripleo', meta, [])).toBeNull();
  });

  it('accepts anything on a queue with no schema bound', () => {
    expect(registry.validate('tripleo', {}, [BAD_STATUS, 'text', null, 42])).toBeNull();
    expect(registry.validate('tripleo', { other: 'x' }, [BAD_STATUS])).toBeNull();
  });
});

describe('binding schemas to queues', () => {
  const queueSchemas = [
    { pattern: 'tripleo*', schema: WORKFLOW },
    { pattern: 'orchestrator-events', schema: ORCHESTRATOR },
    { pattern: '*', schema: ORCHESTRATOR },
  ] as const;
  let registry: SchemaRegistry;
  beforeAll(async () => {
    registry = await loadSchemaRegistry({ queueSchemas: [queueSchemas[0], queueSchemas[1]] });
  });

  it('checks every queue matching a pattern without any metadata', () => {
    expect(registry.schemaFor('tripleo', {})).toBe(WORKFLOW);
    expect(registry.schemaFor('tripleo-ui-logging', {})).toBe(WORKFLOW);
    expect(registry.validate('tripleo-ui-logging', {}, [BAD_STATUS])).toMatch(/^Message 1 is invalid: /);
    expect(registry.validate('orchestrator-events', {}, ORCHESTRATOR_TABLE)).toBeNull();
  });

  it('leaves queues matching no pattern unchecked', () => {
    expect(registry.schemaFor('my-tripleo', {})).toBeNull();
    expect(registry.schemaFor('Tripleo', {})).toBeNull();
    expect(registry.validate('orchestrator-events-2', {}, [BAD_STATUS])).toBeNull();
  });

  it('gives the _schema metadata key precedence over patterns', () => {
    expect(registry.schemaFor('tripleo', { _schema: ORCHESTRATOR })).toBe(ORCHESTRATOR);
    expect(registry.validate('tripleo', { _schema: ORCHESTRATOR }, ORCHESTRATOR_TABLE)).toBeNull();
    expect(registry.validate('tripleo', { _schema: ORCHESTRATOR }, [DEPLOY_PLAN_START])).toBe(
      "Message 1 is invalid: / must have required property 'name'",
    );
  });

  it('does not let a non-string _schema switch a pattern binding off', () => {
    for (const value of [null, false, 0, '', { name: ORCHESTRATOR }]) {
      expect(registry.schemaFor('tripleo', { _schema: value })).toBe(WORKFLOW);
    }
  });

  it('refuses posts to a queue bound by metadata to a schema no longer known', () => {
    expect(registry.validate('q', { _schema: 'gone-v1' }, [{}])).toBe("Queue schema 'gone-v1' is not known");
  });

  it('uses the first matching pattern in configuration order', async () => {
    const r = await loadSchemaRegistry({ queueSchemas: [queueSchemas[0], queueSchemas[2]] });
    expect(r.schemaFor('tripleo', {})).toBe(WORKFLOW);
    expect(r.schemaFor('anything', {})).toBe(ORCHESTRATOR);
  });

  it('rejects a pattern bound to an unknown schema, naming both', async () => {
    await expect(loadSchemaRegistry({ queueSchemas: [{ pattern: 'tripleo*', schema: 'nope' }] })).rejects.toThrow(
      "Queue pattern 'tripleo*' is bound to unknown schema 'nope'",
    );
  });

  it('rejects a pattern outside the glob syntax', async () => {
    await expect(loadSchemaRegistry({ queueSchemas: [{ pattern: 'tripleo.*', schema: WORKFLOW }] })).rejects.toThrow(
      "Invalid queue pattern 'tripleo.*'",
    );
  });
});

describe('operator schemas (extraDir)', () => {
  const custom = JSON.stringify({
    $id: 'https://example.org/schemas/alert-v1.json',
    title: 'Alert',
    type: 'object',
    required: ['severity'],
    properties: { severity: { enum: ['info', 'warning', 'critical'] } },
  });

  it('loads them beside the shipped ones and binds them by pattern', async () => {
    const extraDir = await schemaDir({ 'alert-v1.json': custom, 'README.txt': 'ignored' });
    const r = await loadSchemaRegistry({ extraDir, queueSchemas: [{ pattern: 'alerts-?', schema: 'alert-v1' }] });
    expect(r.list().map((s) => s.name)).toEqual(['alert-v1', ORCHESTRATOR, WORKFLOW]);
    expect(r.validate('alerts-1', {}, [{ severity: 'info' }])).toBeNull();
    expect(r.validate('alerts-1', {}, [{ severity: 'fatal' }])).toBe(
      'Message 1 is invalid: /severity must be one of info, warning, critical',
    );
  });

  it('lets operator schemas $ref one another by $id, whatever the file order', async () => {
    const extraDir = await schemaDir({
      'a-event-v1.json': JSON.stringify({
        type: 'object',
        required: ['who'],
        properties: { who: { $ref: 'https://example.org/schemas/z-common.json#/$defs/user' } },
      }),
      'z-common.json': JSON.stringify({
        $id: 'https://example.org/schemas/z-common.json',
        $defs: { user: { type: 'string', minLength: 3 } },
      }),
    });
    const r = await loadSchemaRegistry({ extraDir });
    expect(r.validate('q', { _schema: 'a-event-v1' }, [{ who: 'alice' }])).toBeNull();
    expect(r.validate('q', { _schema: 'a-event-v1' }, [{ who: 'al' }])).toBe(
      'Message 1 is invalid: /who must have at least 3 characters',
    );
  });

  it('stops loading on an unresolvable $ref, naming the file', async () => {
    const extraDir = await schemaDir({ 'dangling-v1.json': '{"$ref": "https://example.org/nowhere.json"}' });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(join(extraDir, 'dangling-v1.json'));
  });

  it('lists a schema without a title under its name', async () => {
    const extraDir = await schemaDir({ 'bare.json': '{"type": "object"}' });
    const r = await loadSchemaRegistry({ extraDir });
    expect(r.list()).toContainEqual({ name: 'bare', title: 'bare' });
  });

  it('stops loading when a schema does not compile, naming the file', async () => {
    const extraDir = await schemaDir({ 'broken-v1.json': '{"type": "objet"}' });
    const err = await loadSchemaRegistry({ extraDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(join(extraDir, 'broken-v1.json'));
    expect((err as Error).message).toContain('does not compile');
  });

  it('stops loading on an unknown keyword (a typo), naming the file', async () => {
    const extraDir = await schemaDir({ 'typo-v1.json': '{"type": "object", "requird": ["a"]}' });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(join(extraDir, 'typo-v1.json'));
  });

  it('stops loading on a file that is not JSON, naming the file', async () => {
    const extraDir = await schemaDir({ 'half-v1.json': '{"type": "object",' });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(
      `Schema file ${join(extraDir, 'half-v1.json')} is not valid JSON`,
    );
  });

  it('stops loading on a file that is JSON but not an object', async () => {
    const extraDir = await schemaDir({ 'list-v1.json': '[]' });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(`Schema file ${join(extraDir, 'list-v1.json')}`);
  });

  it('rejects a name that duplicates a shipped schema', async () => {
    const extraDir = await schemaDir({ [`${WORKFLOW}.json`]: '{"type": "object"}' });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(`duplicate schema name '${WORKFLOW}'`);
  });

  it('rejects a duplicate $id, naming the file', async () => {
    const extraDir = await schemaDir({
      'copy-v1.json': JSON.stringify({ $id: `https://zaqar-bridge.dev/schemas/messages/${WORKFLOW}.json` }),
    });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(join(extraDir, 'copy-v1.json'));
  });

  it('rejects a draft-07 schema (one draft per ajv instance), naming the file', async () => {
    const extraDir = await schemaDir({ 'old-v1.json': '{"$schema": "http://json-schema.org/draft-07/schema#"}' });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(join(extraDir, 'old-v1.json'));
  });

  it('rejects a missing directory, naming it', async () => {
    const extraDir = join(tmpdir(), 'zb-schemas-does-not-exist');
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow(`Cannot read schema directory ${extraDir}`);
  });

  it('rejects a file name that cannot be a schema name', async () => {
    const extraDir = await schemaDir({ 'my schema.json': '{}' });
    await expect(loadSchemaRegistry({ extraDir })).rejects.toThrow("'my schema' is not a valid schema name");
  });

  it('loads only the directory given as builtinDir when overridden', async () => {
    const builtinDir = await schemaDir({ 'only-v1.json': '{"title": "Only"}' });
    const r = await loadSchemaRegistry({ builtinDir });
    expect(r.list()).toEqual([{ name: 'only-v1', title: 'Only' }]);
  });
});
