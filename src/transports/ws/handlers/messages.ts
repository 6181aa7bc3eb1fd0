/**
 * Message actions (reference §3.5 "Messages", §2.3–§2.6).
 */
import { errors, isZaqarError } from '../../../core/errors.js';
import type { Limits } from '../../../core/limits.js';
import { bodyDepth, postSize } from '../../../core/rules.js';
import { assertQueueName, canonicalClientId } from '../../../core/names.js';
import type {
  Json,
  JsonObject,
  ListMessagesOptions,
  NewMessage,
  RequestContext,
  ZaqarService,
} from '../../../core/types.js';
import { pyJson } from '../../../lib/py-json.js';
import type { FrameHeaders } from '../actions.js';
import { messageJson, poppedJson } from '../views.js';
import type { Handler } from './types.js';
import { reply } from './types.js';

/** The canonical Client-ID (only message_list and message_post parse it, reference §2.1). */
function clientContext(ctx: RequestContext, headers: FrameHeaders): RequestContext {
  const clientId = canonicalClientId(headers['Client-ID'] ?? '');
  if (clientId === null) throw errors.validation('Malformed hexadecimal UUID.', 'badly formed hexadecimal UUID string');
  return { project: ctx.project, clientId };
}

function badRequest(description: string): Error {
  return errors.validation(description, `Bad request. ${description}`);
}

function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One posted item as Zaqar's `sanitize` reads it: `ttl` is checked first (Python `int`, so
 * `true` counts as 1), then `body` must be present; other keys (`delay` too) are dropped.
 * A non-object item is reported as missing its body (Zaqar answers 500 there).
 */
function parseMessage(item: Json): NewMessage {
  if (!isObject(item)) throw badRequest('Missing "body" field.');
  let ttl: number | undefined;
  if ('ttl' in item) {
    const raw = item['ttl'];
    if (typeof raw === 'boolean') ttl = raw ? 1 : 0;
    else if (typeof raw === 'number' && Number.isInteger(raw)) ttl = raw;
    else throw badRequest('The value of the "ttl" field must be a int.');
  }
  if (!('body' in item)) throw badRequest('Missing "body" field.');
  const body = item['body'] ?? null;
  return ttl === undefined ? { body } : { body, ttl };
}

/** Python truthiness of `include_delayed` as `oslo_utils.strutils.bool_from_string` reads it. */
function truthy(v: Json | undefined): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  return typeof v === 'string' && ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase());
}

function idText(v: Json): string {
  return typeof v === 'string' ? v : pyJson(v);
}

/**
 * Zaqar's WS size check, `len(str(messages))` against the queue's `_max_messages_post_size`
 * (capped by the configured maximum) and the configured maximum (reference §2.10). The
 * length of the Python-style JSON text, non-ASCII characters counted once, approximates it.
 */
function checkPostSize(messages: readonly Json[], metadata: JsonObject, limits: Limits): void {
  postSize(pyJson(messages).replace(/\\u[0-9a-f]{4}/g, '.').length, metadata, limits);
}

/** Order of Zaqar's `message_post`: Client-ID, queue name (new queue), size, items, ranges. */
export const messagePost: Handler<'message_post'> = async ({ body, headers, ctx }, { service, limits }) => {
  const client = clientContext(ctx, headers);
  const metadata = await service.getQueue(ctx, body.queue_name);
  if (metadata === null) assertQueueName(body.queue_name, ctx.project);
  bodyDepth(body.messages, 2); // first: measuring the size of a too deep value would overflow
  checkPostSize(body.messages, metadata ?? {}, limits);
  const messages = body.messages.map(parseMessage);
  const ids = await service.postMessages(client, body.queue_name, messages);
  return reply(201, { message_ids: ids });
};

/**
 * WS responses carry no paging marker, so WS clients page with the last message id they saw
 * (what real Zaqar's redis store expects, reference §3.5). A marker that is a message id is
 * turned into that message's position; anything else is passed on unchanged.
 */
async function resolveMarker(service: ZaqarService, ctx: RequestContext, queue: string, marker: string): Promise<string> {
  if (/^\d+$/.test(marker)) return marker;
  try {
    return String((await service.getMessage(ctx, queue, marker)).seq);
  } catch (e: unknown) {
    if (isZaqarError(e) && e.status === 404) return marker;
    throw e;
  }
}

export const messageList: Handler<'message_list'> = async ({ body, headers, ctx }, { service }) => {
  const client = clientContext(ctx, headers);
  const opts: { -readonly [K in keyof ListMessagesOptions]: ListMessagesOptions[K] } = { confirmMissing: true };
  if (body.marker !== undefined) opts.marker = await resolveMarker(service, ctx, body.queue_name, body.marker);
  if (body.limit !== undefined) opts.limit = body.limit;
  if (body.echo !== undefined) opts.echo = body.echo;
  if (body.include_claimed !== undefined) opts.includeClaimed = body.include_claimed;
  if (body.include_delayed !== undefined && body.include_delayed !== null) opts.includeDelayed = truthy(body.include_delayed);
  const result = await service.listMessages(client, body.queue_name, opts);
  if (!result.queueExists) throw errors.queueNotFound(body.queue_name, ctx.project);
  return reply(200, { messages: result.messages.map((m) => messageJson(m)) });
};

export const messageGet: Handler<'message_get'> = async ({ body, ctx }, { service }) => {
  const m = await service.getMessage(ctx, body.queue_name, body.message_id);
  return reply(200, { messages: messageJson(m) });
};

export const messageGetMany: Handler<'message_get_many'> = async ({ body, ctx }, { service }) => {
  const found = await service.getMessages(ctx, body.queue_name, body.message_ids.map(idText));
  return reply(200, { messages: found.map((m) => messageJson(m)) });
};

export const messageDelete: Handler<'message_delete'> = async ({ body, ctx }, { service }) => {
  await service.deleteMessage(ctx, body.queue_name, body.message_id, body.claim_id);
  return reply(204, {});
};

/** Zaqar's `message_deletion` checks (reference §2.6), Python truthiness included. */
export const messageDeleteMany: Handler<'message_delete_many'> = async ({ body, ctx }, { service, limits }) => {
  const ids = body.message_ids;
  const pop = body.pop;
  if (ids !== undefined && ids.length > 0 && pop !== undefined && pop !== 0) {
    throw errors.validation('pop and id params cannot be present together in the delete request.');
  }
  if (ids === undefined && pop === undefined) {
    throw errors.validation(
      'The request should have either "ids" or "pop" parameter in the request, to be able to delete.',
    );
  }
  const popMax = limits.maxMessagesPerClaimOrPop;
  if (pop !== undefined && !(pop > 0 && pop <= popMax)) {
    throw errors.validation(`Pop value must be at least 1 and may not be greater than ${popMax}.`);
  }
  const idsMax = limits.maxMessagesPerPage;
  if (ids !== undefined && !(ids.length > 0 && ids.length <= idsMax)) {
    throw errors.validation(`ids parameter should have at least 1 and not greater than ${idsMax} values.`);
  }
  if (ids !== undefined && ids.length > 0) {
    await service.deleteMessages(ctx, body.queue_name, ids.map(idText));
    return reply(204, {});
  }
  const popped = await service.popMessages(ctx, body.queue_name, pop ?? 0);
  return reply(200, { messages: popped.map(poppedJson) });
};
