/**
 * Writing responses: JSON bodies are serialized with {@link pyJson} so they are byte-identical
 * to Zaqar's (Python `json.dumps`), and bodiless answers are truly empty.
 */
import type { FastifyReply } from 'fastify';
import { pyJson } from '../../lib/py-json.js';

export const JSON_TYPE = 'application/json';

/** Sends `value` as Zaqar JSON with `status`. */
export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).header('content-type', JSON_TYPE).send(Buffer.from(pyJson(value)));
}

/** Sends an empty body (201/204 without content), still typed JSON as Zaqar does. */
export function sendEmpty(reply: FastifyReply, status: number, location?: string): FastifyReply {
  if (location !== undefined) reply.header('location', location);
  return reply.code(status).header('content-type', JSON_TYPE).send(Buffer.alloc(0));
}
