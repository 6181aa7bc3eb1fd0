/**
 * The exhaustive action → handler table.
 */
import { claimCreate, claimDelete, claimGet, claimUpdate } from './claims.js';
import {
  messageDelete,
  messageDeleteMany,
  messageGet,
  messageGetMany,
  messageList,
  messagePost,
} from './messages.js';
import { authenticate, flavorList, notImplemented, poolList } from './misc.js';
import { queueCreate, queueDelete, queueGet, queueGetStats, queueList, queuePurge } from './queues.js';
import { subscriptionCreate, subscriptionDelete, subscriptionGet, subscriptionList } from './subscriptions.js';
import type { HandlerTable } from './types.js';

export type { Call, Handler, HandlerDeps, HandlerTable, Reply, Session } from './types.js';

export const HANDLERS: HandlerTable = {
  authenticate,
  queue_list: queueList,
  queue_create: queueCreate,
  queue_delete: queueDelete,
  queue_get: queueGet,
  queue_get_stats: queueGetStats,
  queue_purge: queuePurge,
  message_list: messageList,
  message_get: messageGet,
  message_get_many: messageGetMany,
  message_post: messagePost,
  message_delete: messageDelete,
  message_delete_many: messageDeleteMany,
  claim_create: claimCreate,
  claim_get: claimGet,
  claim_update: claimUpdate,
  claim_delete: claimDelete,
  subscription_create: subscriptionCreate,
  subscription_delete: subscriptionDelete,
  subscription_get: subscriptionGet,
  subscription_list: subscriptionList,
  get_home_doc: notImplemented('get_home_doc'),
  check_node_health: notImplemented('check_node_health'),
  ping_node: notImplemented('ping_node'),
  pool_list: poolList,
  pool_create: notImplemented('pool_create'),
  pool_get: notImplemented('pool_get'),
  pool_update: notImplemented('pool_update'),
  pool_delete: notImplemented('pool_delete'),
  flavor_list: flavorList,
  flavor_create: notImplemented('flavor_create'),
  flavor_get: notImplemented('flavor_get'),
  flavor_update: notImplemented('flavor_update'),
  flavor_delete: notImplemented('flavor_delete'),
};
