/**
 * JSON Schema validation of message bodies (issue: "validate message bodies against JSON
 * Schemas kept in `schemas/`").
 *
 * `loadSchemaRegistry()` reads the shipped schemas (`schemas/messages/*.json`) and the
 * operator's (`extraDir`), compiles them all once in one ajv instance, and returns a
 * {@link SchemaRegistry}: the core's `MessageValidator` and the `SchemaCatalog` behind
 * `GET /v2/schemas`.
 *
 * Schema files: one JSON Schema (draft 2020-12; omit `$schema` or use
 * `https://json-schema.org/draft/2020-12/schema`) per `*.json` file; the file name without
 * `.json` is the short name; `title` is listed; `$id` values must be unique; annotation
 * keywords `x-version` and `x-message` are allowed (see `ajv-instance.ts`), any other unknown
 * keyword is a compile error.
 */
import { fileURLToPath } from 'node:url';
import { readSchemaDir } from './load-schema-files.js';
import type { QueueSchemaBinding } from './queue-patterns.js';
import { SchemaRegistry } from './schema-registry.js';

export { SchemaRegistry, SCHEMA_METADATA_KEY, MESSAGE_INDEX_BASE } from './schema-registry.js';
export type { QueueSchemaBinding } from './queue-patterns.js';
export { compileGlob } from './queue-patterns.js';

/**
 * Directory of the shipped schemas. This module sits at `src/validation/` (tests, tsx) or
 * `dist/validation/` (build, rootDir `src`): both are two levels under the repository root.
 */
export const BUILTIN_SCHEMA_DIR: string = fileURLToPath(new URL('../../schemas/messages/', import.meta.url));

/** Options of {@link loadSchemaRegistry}. */
export interface SchemaRegistryOptions {
  /** Directory of operator schema files, loaded after the shipped ones. Default: none. */
  readonly extraDir?: string;
  /**
   * Queue-name globs bound to schema names, first match wins (`*` any run, `?` one
   * character, anchored, case-sensitive). Default: none. The `_schema` metadata key wins
   * over them.
   */
  readonly queueSchemas?: readonly QueueSchemaBinding[];
  /** Directory of the shipped schemas. Default {@link BUILTIN_SCHEMA_DIR}; tests override it. */
  readonly builtinDir?: string;
}

/**
 * Loads and compiles every schema; call once at start-up.
 * @throws (rejects) Error naming the file when a schema file is not valid JSON, does not
 *   compile, or duplicates a name or `$id`; naming the directory when it cannot be read;
 *   naming the pattern when a binding's glob is invalid or its schema unknown.
 */
export async function loadSchemaRegistry(opts: SchemaRegistryOptions = {}): Promise<SchemaRegistry> {
  const builtin = await readSchemaDir(opts.builtinDir ?? BUILTIN_SCHEMA_DIR);
  const extra = opts.extraDir === undefined ? [] : await readSchemaDir(opts.extraDir);
  return new SchemaRegistry([...builtin, ...extra], opts.queueSchemas ?? []);
}
