/**
 * The schema registry: every known message schema compiled once in one ajv instance, with
 * the queue bindings (`_schema` metadata, then configured patterns).
 */
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import type { MessageValidator, SchemaCatalog } from '../core/ports.js';
import { createAjv } from './ajv-instance.js';
import type { SchemaFile } from './load-schema-files.js';
import { compileBindings, matchBinding, type CompiledBinding, type QueueSchemaBinding } from './queue-patterns.js';
import { renderErrors } from './render-error.js';

/** The reserved queue metadata key that binds a schema by name (our extension to Zaqar). */
export const SCHEMA_METADATA_KEY = '_schema';

/**
 * Number of the first message of a batch in error texts: messages are counted from 1, as
 * people count them (`Message 1 is invalid: …` is the first, or only, message posted).
 */
export const MESSAGE_INDEX_BASE = 1;

interface Entry {
  readonly title: string;
  readonly document: Readonly<Record<string, unknown>>;
  readonly validate: ValidateFunction;
}

/**
 * Implements {@link MessageValidator} and {@link SchemaCatalog}. Built by
 * `loadSchemaRegistry`; immutable once built.
 *
 * Which schema applies to a queue:
 * 1. the queue metadata `_schema`, when it is a non-empty string;
 * 2. otherwise the first configured pattern (in configuration order) matching the queue name;
 * 3. otherwise none: every body is accepted.
 * `_schema` can replace a pattern's schema but not switch validation off (a non-string
 * `_schema` is ignored), so operators' pattern bindings cannot be bypassed by a producer.
 */
export class SchemaRegistry implements MessageValidator, SchemaCatalog {
  readonly #entries = new Map<string, Entry>();
  readonly #bindings: readonly CompiledBinding[];
  readonly #listing: readonly { readonly name: string; readonly title: string }[];

  /**
   * Compiles every file.
   * @throws Error naming the file when two files share a name or `$id`, or a schema does
   *   not compile; Error naming the pattern on a bad binding.
   */
  constructor(files: readonly SchemaFile[], bindings: readonly QueueSchemaBinding[]) {
    const ajv = createAjv();
    const byName = new Map<string, string>();
    for (const f of files) {
      const previous = byName.get(f.name);
      if (previous !== undefined) {
        throw new Error(`Schema file ${f.file}: duplicate schema name '${f.name}' (also ${previous})`);
      }
      byName.set(f.name, f.file);
      addDocument(ajv, f);
    }
    // Compiled only once every document is registered, so schemas may `$ref` one another by `$id`.
    for (const f of files) this.#entries.set(f.name, compileEntry(ajv, f));
    this.#bindings = compileBindings(bindings, (s) => this.#entries.has(s));
    this.#listing = Object.freeze(
      [...this.#entries].map(([name, e]) => Object.freeze({ name, title: e.title })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
  }

  /**
   * See {@link MessageValidator.validate}. Messages are counted from
   * {@link MESSAGE_INDEX_BASE} (1). Returns the text for the first invalid body only.
   *
   * Deviation: when `_schema` names a schema this registry does not know (say the operator
   * removed its file after the queue was bound), every post is refused with
   * `Queue schema '<name>' is not known` rather than silently accepted.
   */
  validate(queue: string, metadata: Readonly<Record<string, unknown>>, bodies: readonly unknown[]): string | null {
    const name = this.schemaFor(queue, metadata);
    if (name === null) return null;
    const entry = this.#entries.get(name);
    if (entry === undefined) return `Queue schema '${name}' is not known`;
    for (let i = 0; i < bodies.length; i++) {
      if (!entry.validate(bodies[i])) {
        return `Message ${i + MESSAGE_INDEX_BASE} is invalid: ${renderErrors(entry.validate.errors)}`;
      }
    }
    return null;
  }

  /** The schema name bound to the queue (metadata first, then patterns), or null. */
  schemaFor(queue: string, metadata: Readonly<Record<string, unknown>>): string | null {
    const bound = metadata[SCHEMA_METADATA_KEY];
    if (typeof bound === 'string' && bound !== '') return bound;
    return this.#bindings.length === 0 ? null : matchBinding(this.#bindings, queue);
  }

  hasSchema(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Known schemas sorted by name, with their `title` (the name when the schema has none). */
  list(): readonly { readonly name: string; readonly title: string }[] {
    return this.#listing;
  }

  /** The schema document as loaded (frozen deeply), or undefined. */
  get(name: string): Readonly<Record<string, unknown>> | undefined {
    return this.#entries.get(name)?.document;
  }
}

/** The key the document is registered under: its `$id`, or `zaqar-bridge:<name>` without one. */
function keyOf(f: SchemaFile): string {
  const id = f.document['$id'];
  return typeof id === 'string' ? id : `zaqar-bridge:${f.name}`;
}

function addDocument(ajv: Ajv2020, f: SchemaFile): void {
  try {
    ajv.addSchema(f.document, typeof f.document['$id'] === 'string' ? undefined : keyOf(f));
  } catch (cause) {
    throw new Error(`Schema file ${f.file} does not compile: ${(cause as Error).message}`, { cause });
  }
}

function compileEntry(ajv: Ajv2020, f: SchemaFile): Entry {
  let validate: ValidateFunction | undefined;
  try {
    validate = ajv.getSchema(keyOf(f));
  } catch (cause) {
    throw new Error(`Schema file ${f.file} does not compile: ${(cause as Error).message}`, { cause });
  }
  if (validate === undefined) throw new Error(`Schema file ${f.file} does not compile: not registered`);
  const title = typeof f.document['title'] === 'string' ? f.document['title'] : f.name;
  return { title, document: deepFreeze(f.document), validate };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
