/**
 * Queue actions (reference §3.5 "Queues").
 */
import type { Json, ListQueuesOptions } from '../../../core/types.js';
import { statsJson } from '../views.js';
import type { Handler } from './types.js';
import { reply } from './types.js';

const PURGEABLE = ['messages', 'subscriptions'] as const;
type Purgeable = (typeof PURGEABLE)[number];

export const queueList: Handler<'queue_list'> = async ({ body, ctx }, { service }) => {
  const opts: { -readonly [K in keyof ListQueuesOptions]: ListQueuesOptions[K] } = {};
  if (body.marker !== undefined) opts.marker = body.marker;
  if (body.limit !== undefined) opts.limit = body.limit;
  if (body.detailed !== undefined) opts.detailed = body.detailed;
  const { queues } = await service.listQueues(ctx, opts);
  const detailed = body.detailed === true;
  const items: Json[] = queues.map((q) => (detailed ? { name: q.name, metadata: q.metadata } : { name: q.name }));
  return reply(200, { queues: items });
};

export const queueCreate: Handler<'queue_create'> = async ({ body, ctx }, { service }) => {
  const q = body.queue_name;
  const created = await service.createQueue(ctx, q, body.metadata ?? {});
  return reply(created ? 201 : 204, `Queue ${q} created.`);
};

export const queueGet: Handler<'queue_get'> = async ({ body, ctx }, { service }) => {
  const metadata = await service.getQueue(ctx, body.queue_name);
  return reply(200, metadata ?? {});
};

export const queueDelete: Handler<'queue_delete'> = async ({ body, ctx }, { service }) => {
  await service.deleteQueue(ctx, body.queue_name);
  return reply(204, `Queue ${body.queue_name} removed.`);
};

export const queueGetStats: Handler<'queue_get_stats'> = async ({ body, ctx }, { service }) => {
  const stats = await service.queueStats(ctx, body.queue_name, { confirmMissing: true });
  return reply(stats.exists ? 200 : 404, statsJson(stats));
};

/** `resource_types` is not validated on WS: unknown values are ignored (reference §3.5). */
export const queuePurge: Handler<'queue_purge'> = async ({ body, ctx }, { service }) => {
  const asked = body.resource_types ?? PURGEABLE;
  const types = PURGEABLE.filter((t: Purgeable) => asked.includes(t));
  if (types.length > 0) await service.purgeQueue(ctx, body.queue_name, types);
  return reply(204, {});
};
