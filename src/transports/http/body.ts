/**
 * Request bodies, read as Zaqar reads them: by `Content-Length` only (a chunked body without
 * it counts as absent), size-checked on the declared length before parsing, and parsed with
 * Zaqar's texts (`zaqar/transport/wsgi/utils.py#deserialize`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Json, JsonObject } from '../../core/types.js';
import type { Limits } from '../../core/limits.js';

/** A parsed request body: Zaqar only accepts a JSON object or array at the top level. */
export type JsonDocument = JsonObject | Json[];
import { badBody } from './http-error.js';

/** What the body parser leaves on `request.body`. */
export interface RawBody {
  /** The bytes read, or null when the body was absent or larger than the read cap. */
  readonly bytes: Buffer | null;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
/** Stateless between calls (`decode` without `stream`), so one instance serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** An integer outside signed 64 bits has at least 19 digits (see {@link hasOverflowingInteger}). */
const LONG_DIGIT_RUN = /\d{19}/;

/** Declared `Content-Length`, or null when absent or unparsable (Falcon: None). */
export function contentLength(request: FastifyRequest): number | null {
  const raw = request.headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

/**
 * Installs the only body parser: any content type (clients send `application/json` on GET and
 * DELETE, and the json-patch type on PATCH), read raw up to `cap` bytes. Bodies declared
 * larger than `cap` are not read; routes reject them by their declared length first.
 */
export function installBodyParser(app: FastifyInstance, cap: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', async (request: FastifyRequest, payload: Readable): Promise<RawBody> => {
    const declared = contentLength(request);
    if (declared === null || declared > cap) return { bytes: null };
    return { bytes: await readAll(payload, declared) };
  });
}

/**
 * Reads the whole body (Node's parser stops at Content-Length; never stop early: that would
 * destroy the socket). Plain listeners rather than `for await`: the async iterator costs a
 * promise and a tick per chunk, and nearly every body is a single chunk, returned without copy.
 */
function readAll(payload: Readable, declared: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    payload.on('data', (chunk: unknown) => chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))));
    payload.once('error', reject);
    payload.once('end', () => {
      const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      resolve(all.length > declared ? all.subarray(0, declared) : all);
    });
  });
}

function rawOf(request: FastifyRequest): Buffer | null {
  const body = request.body as RawBody | undefined;
  return body?.bytes ?? null;
}

/** True when the request declared a non-empty body (Falcon's `if req.content_length:`). */
export function hasBody(request: FastifyRequest): boolean {
  const n = contentLength(request);
  return n !== null && n > 0;
}

/**
 * Zaqar's `deserialize`: absent length → "Request body can not be empty"; bad UTF-8, bad JSON
 * or a top-level scalar → "Request body could not be parsed."; an integer outside signed
 * 64 bits → "JSON contains integer that is too large.". Returns an object or an array.
 */
export function readJson(request: FastifyRequest): JsonDocument {
  if (contentLength(request) === null) throw badBody('Request body can not be empty');
  return parseJsonText(rawOf(request) ?? Buffer.alloc(0));
}

/** Parses JSON bytes with Zaqar's error texts (see {@link readJson}). */
export function parseJsonText(bytes: Buffer): JsonDocument {
  let text: string;
  let value: unknown;
  try {
    text = UTF8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    throw badBody('Request body could not be parsed.');
  }
  if (typeof value !== 'object' || value === null) throw badBody('Request body could not be parsed.');
  if (hasOverflowingInteger(text)) throw badBody('JSON contains integer that is too large.');
  return value as JsonDocument;
}

/** Whether valid JSON text holds an integer literal outside signed 64 bits (Python's check). */
export function hasOverflowingInteger(text: string): boolean {
  if (!LONG_DIGIT_RUN.test(text)) return false; // the common case, without tokenizing
  const token = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  for (const m of text.matchAll(token)) {
    const t = m[0];
    if (t.startsWith('"') || /[.eE]/.test(t) || t.replace('-', '').length < 19) continue;
    const n = BigInt(t);
    if (n > INT64_MAX || n < INT64_MIN) return true;
  }
  return false;
}

/** A JSON object (Zaqar's `sanitize(doctype=dict)`), else "Document type not supported.". */
export function asObject(value: Json): { [key: string]: Json } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badBody('Document type not supported.');
  }
  return value;
}

/** A JSON array (Zaqar's `sanitize(doctype=list)`), else "Document type not supported.". */
export function asArray(value: Json | undefined): Json[] {
  if (!Array.isArray(value)) throw badBody('Document type not supported.');
  return value;
}

/** Python's `isinstance(v, int)`: integers, and booleans as 0/1. Null when not an int. */
export function pyInt(value: Json | undefined): number | null {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  return null;
}

/** The metadata size rule shared by PUT and PATCH (by Content-Length, before parsing). */
export function metadataTooLarge(req: FastifyRequest, limits: Limits): string | null {
  const length = contentLength(req);
  return length !== null && length > limits.maxQueueMetadata ? `Queue metadata is too large. Max size: ${limits.maxQueueMetadata}` : null;
}
