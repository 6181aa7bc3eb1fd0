/**
 * Reads schema documents from a directory: every `*.json` file directly in it (not
 * recursive), in name order. The file name without `.json` is the schema's short name.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A schema document read from disk, not yet compiled. */
export interface SchemaFile {
  /** Short name: the file name without `.json` (e.g. `tripleo-workflow-message-v1`). */
  readonly name: string;
  /** Absolute or configured path of the file, for error messages. */
  readonly file: string;
  readonly document: Readonly<Record<string, unknown>>;
}

/** Short names: what a queue name may contain, plus dots. */
const SCHEMA_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Reads and parses every `*.json` file of `dir`.
 * @throws Error naming the directory when it cannot be read, or the file when it is not
 *   valid JSON, not a JSON object, or its name is not a valid short name.
 */
export async function readSchemaDir(dir: string): Promise<SchemaFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (cause) {
    throw new Error(`Cannot read schema directory ${dir}: ${(cause as Error).message}`, { cause });
  }
  const names = entries.filter((f) => f.endsWith('.json')).sort();
  return Promise.all(names.map((f) => readSchemaFile(join(dir, f), f.slice(0, -'.json'.length))));
}

async function readSchemaFile(file: string, name: string): Promise<SchemaFile> {
  if (!SCHEMA_NAME.test(name)) {
    throw new Error(`Schema file ${file}: '${name}' is not a valid schema name (letters, digits, _ - .)`);
  }
  let document: unknown;
  try {
    document = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new Error(`Schema file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new Error(`Schema file ${file} does not hold a JSON object`);
  }
  return { name, file, document: document as Record<string, unknown> };
}
