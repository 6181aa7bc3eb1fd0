/**
 * `PATCH /v2/queues/{q}`: JSON-patch (draft 10) on the queue metadata, with Zaqar's texts
 * (`queues.py#on_patch`, `validation.py#queue_patching`). The new metadata is computed here
 * and stored whole through `service.setQueueMetadata`, which validates the reserved keys.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, isZaqarError } from '../../../core/errors.js';
import type { Json, JsonObject } from '../../../core/types.js';
import { contentLength, metadataTooLarge, parseJsonText } from '../body.js';
import { ctxOf } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { HttpError, badBody } from '../http-error.js';
import { metadataWithDefaults } from '../render.js';
import { sendJson } from '../reply.js';
import { param } from './params.js';

export const JSON_PATCH_TYPE = 'application/openstack-messaging-v2.0-json-patch';
const OPERATIONS = ['add', 'remove', 'replace'] as const;
type Operation = (typeof OPERATIONS)[number];
const RESERVED = new Set([
  '_max_messages_post_size',
  '_default_message_ttl',
  '_default_message_delay',
  '_dead_letter_queue',
  '_dead_letter_queue_messages_ttl',
  '_max_claim_count',
  '_enable_encrypt_messages',
]);

interface Change {
  readonly op: Operation;
  readonly path: readonly string[];
  readonly value?: Json;
}

export async function patchQueue(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const tooLarge = metadataTooLarge(req, deps.limits);
  if (tooLarge !== null) throw badBody(tooLarge);
  requirePatchType(req);
  const changes = parseChanges(readPatchBody(req));
  const ctx = ctxOf(req);
  const queue = param(req, 'queue_name');
  const stored = await deps.service.getQueue(ctx, queue);
  if (stored === null) throw errors.queueNotFound(queue, ctx.project);
  const metadata = applyChanges(stored, changes);
  try {
    await deps.service.setQueueMetadata(ctx, queue, metadata);
  } catch (e: unknown) {
    // Zaqar reports metadata validation on PATCH as "Invalid request body".
    if (isZaqarError(e) && e.status === 400) throw badBody(e.description);
    throw e;
  }
  return sendJson(reply, 200, metadataWithDefaults(metadata, deps.limits));
}

function requirePatchType(req: FastifyRequest): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type === JSON_PATCH_TYPE) return;
  throw new HttpError(415, `Accepted media type for PATCH: {'Accept-Patch': '${JSON_PATCH_TYPE}'}.`);
}

function readPatchBody(req: FastifyRequest): Json[] {
  const length = contentLength(req);
  if (length === null || length === 0) throw badBody('PATCH body could not be empty for update.');
  const body = req.body as { bytes: Buffer | null } | undefined;
  const doc = parseJsonText(body?.bytes ?? Buffer.alloc(0));
  if (!Array.isArray(doc)) throw badBody('Request body must be a JSON array of operation objects.');
  return doc;
}

/** `queue_patching`: validates every raw change, in order. */
export function parseChanges(raw: readonly Json[]): Change[] {
  return raw.map(parseChange);
}

function parseChange(raw: Json): Change {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badBody('Operations must be JSON objects.');
  const op = parseOp(raw['op']);
  const pointer = raw['path'];
  if (typeof pointer !== 'string') throw badBody("Unable to find 'path' in JSON Schema change");
  const path = decodePointer(pointer);
  if (path.length !== 2) {
    throw badBody(`Invalid JSON pointer for this resource: '/${path.join('/')}, e.g /metadata/key'`);
  }
  if (op === 'remove') return { op, path };
  if (!('value' in raw)) throw badBody(`Operation "${op}" requires a member named "value".`);
  if (path[0]?.toLowerCase() !== 'metadata') throw badBody('The root of path must be metadata, e.g /metadata/key.');
  return { op, path, value: raw['value'] ?? null };
}

function parseOp(op: Json | undefined): Operation {
  const available = OPERATIONS.join(', ');
  if (op === undefined || op === null) {
    throw badBody(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${available}.`);
  }
  const found = OPERATIONS.find((o) => o === op);
  if (found === undefined) {
    throw badBody(`Invalid operation: \`${String(op)}\`. It must be one of the following: ${available}.`);
  }
  return found;
}

/** Zaqar's limited JSON pointer: validated, then split with `~1`/`~0` unescaped and trimmed. */
export function decodePointer(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw badBody(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw badBody(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw badBody(`Pointer \`${pointer}\` end with "/".`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) {
    throw badBody(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  }
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~').trim());
}

function setKey(obj: JsonObject, key: string, value: Json): void {
  // defineProperty: a "__proto__" key stays a plain key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies the changes to a copy of `stored` (add sets, replace needs the key, remove drops it). */
export function applyChanges(stored: JsonObject, changes: readonly Change[]): JsonObject {
  const metadata: JsonObject = { ...stored };
  for (const change of changes) {
    const key = change.path[1] ?? '';
    const exists = Object.hasOwn(metadata, key);
    if (change.op === 'add') setKey(metadata, key, change.value ?? null);
    else if (change.op === 'replace') {
      if (!exists && !RESERVED.has(key)) throw errors.conflict(`Can't replace non-existent object ${key}.`);
      setKey(metadata, key, change.value ?? null);
    } else if (exists) delete metadata[key];
    else if (!RESERVED.has(key)) throw errors.conflict(`Can't remove non-existent object ${key}.`);
  }
  return metadata;
}
