/**
 * `POST /v2/queues/{q}/messages` in Zaqar's order (`messages.py#on_post`): queue metadata →
 * size by Content-Length → JSON → `messages` key → array → per-item fields (`ttl` int with
 * the queue's default, `body` required, `delay` int on delay queues) → non-empty → ranges.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Limits } from '../../../core/limits.js';
import { postSize } from '../../../core/rules.js';
import type { Json, JsonObject, NewMessage } from '../../../core/types.js';
import { asArray, contentLength, type JsonDocument, pyInt, readJson } from '../body.js';
import { ctxOf, pathOf } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { badApi, badBody } from '../http-error.js';
import { pyTruthy } from '../render.js';
import { sendJson } from '../reply.js';
import { checkMessageContent } from '../validate.js';
import { param } from './params.js';

/** The per-item rules a queue's metadata implies. */
interface PostSpec {
  readonly defaultTtl: number;
  /** The queue's delay, or null when the queue has none (then `delay` is dropped). */
  readonly defaultDelay: number | null;
}

export async function postMessages(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ctx = ctxOf(req);
  const queue = param(req, 'queue_name');
  const metadata = (await deps.service.getQueue(ctx, queue)) ?? {};
  checkPostSize(contentLength(req), metadata, deps.limits);
  const spec = postSpec(metadata, deps.limits);
  const messages = parseMessages(readJson(req), spec);
  if (messages.length === 0) throw badApi('No messages to enqueu.');
  for (const m of messages) checkMessageContent(m.ttl ?? spec.defaultTtl, m.delay ?? 0, deps.limits);
  const ids = await deps.service.postMessages(ctx, queue, messages);
  const path = pathOf(req);
  reply.header('location', `${path}?ids=${ids.join(',')}`);
  return sendJson(reply, 201, { resources: ids.map((id) => `${path}/${id}`) });
}

function postSpec(metadata: JsonObject, limits: Limits): PostSpec {
  const ttl = metadata['_default_message_ttl'];
  const delay = metadata['_default_message_delay'];
  return {
    defaultTtl: typeof ttl === 'number' && pyTruthy(ttl) ? ttl : limits.defaultMessageTtl,
    defaultDelay: typeof delay === 'number' && pyTruthy(delay) ? delay : null,
  };
}

/** `message_length`: Zaqar's size check on the request's Content-Length. */
export function checkPostSize(length: number | null, metadata: JsonObject, limits: Limits): void {
  if (length !== null) postSize(length, metadata, limits);
}

function parseMessages(doc: JsonDocument, spec: PostSpec): NewMessage[] {
  if (Array.isArray(doc) || !Object.hasOwn(doc, 'messages')) {
    throw badApi('No messages were found in the request body.');
  }
  return asArray(doc['messages']).map((item) => parseItem(item, spec));
}

/** Zaqar's `filter(document, spec)`: ttl, body, then delay; other keys dropped. */
function parseItem(item: Json, spec: PostSpec): NewMessage {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw badBody('Document type not supported.');
  }
  const ttl = intField(item, 'ttl', spec.defaultTtl);
  if (!Object.hasOwn(item, 'body')) throw badBody('Missing "body" field.');
  const body = item['body'] ?? null;
  if (spec.defaultDelay === null) return { ttl, body };
  return { ttl, body, delay: intField(item, 'delay', spec.defaultDelay) };
}

function intField(item: JsonObject, name: string, fallback: number): number {
  if (!Object.hasOwn(item, name)) return fallback;
  const n = pyInt(item[name]);
  if (n === null) throw badBody(`The value of the "${name}" field must be a int.`);
  return n;
}
