/**
 * Writing responses: JSON bodies are serialized with {@link pyJson} so they are byte-identical
 * to Zaqar's (Python `json.dumps`), and bodiless answers are truly empty.
 *
 * Header order follows the real server's (Falcon under wsgiref): on successes
 * `content-length` comes before `content-type`. Clients do not care; byte diffs of captures
 * do. fastify keeps a correct `content-length` that is already set, in its position.
 */
import type { FastifyReply } from 'fastify';
import { pyJson } from '../../lib/py-json.js';

export const JSON_TYPE = 'application/json';

/** Sends `payload` with `status`: `content-length`, then `content-type` (Falcon's order). */
export function sendBytes(reply: FastifyReply, status: number, payload: Buffer, type: string = JSON_TYPE): FastifyReply {
  reply.code(status);
  // 204 never carries a Content-Length (RFC 9110 §8.6); fastify omits it there.
  if (status !== 204) reply.header('content-length', String(payload.length));
  return reply.header('content-type', type).send(payload);
}

/** Sends `value` as Zaqar JSON with `status`. */
export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return sendBytes(reply, status, Buffer.from(pyJson(value)));
}

/** Sends an empty body (201/204 without content), still typed JSON as Zaqar does. */
export function sendEmpty(reply: FastifyReply, status: number, location?: string): FastifyReply {
  if (location !== undefined) reply.header('location', location);
  return sendBytes(reply, status, Buffer.alloc(0));
}
