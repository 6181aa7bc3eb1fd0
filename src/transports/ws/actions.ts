/**
 * The closed set of WebSocket actions (Zaqar `zaqar/api/v2/request.py`, reference §3.5) and the
 * shape of each action's `body` once its frame has passed schema validation (`schemas.ts`).
 */
import type { Json, JsonObject } from '../../core/types.js';

/** Actions with an endpoint (reference §3.5). */
export const ENDPOINT_ACTIONS = [
  'authenticate',
  'queue_list',
  'queue_create',
  'queue_delete',
  'queue_get',
  'queue_get_stats',
  'queue_purge',
  'message_list',
  'message_get',
  'message_get_many',
  'message_post',
  'message_delete',
  'message_delete_many',
  'claim_create',
  'claim_get',
  'claim_update',
  'claim_delete',
  'subscription_create',
  'subscription_delete',
  'subscription_get',
  'subscription_list',
] as const;

/** Actions Zaqar's schema knows but that have no endpoint (reference §3.5, "schema-only"). */
export const SCHEMA_ONLY_ACTIONS = [
  'get_home_doc',
  'check_node_health',
  'ping_node',
  'pool_list',
  'pool_create',
  'pool_get',
  'pool_update',
  'pool_delete',
  'flavor_list',
  'flavor_create',
  'flavor_get',
  'flavor_update',
  'flavor_delete',
] as const;

export const ACTIONS = [...ENDPOINT_ACTIONS, ...SCHEMA_ONLY_ACTIONS] as const;

export type Action = (typeof ACTIONS)[number];

const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

/** Type guard: `name` is one of {@link ACTIONS}. */
export function isAction(name: unknown): name is Action {
  return typeof name === 'string' && ACTION_SET.has(name);
}

interface QueueBody {
  readonly queue_name: string;
}

/**
 * Body of each action after validation. Optional keys are absent or of the declared type;
 * extra keys are allowed everywhere (as in Zaqar) and ignored.
 */
export interface ActionBodies {
  readonly authenticate: JsonObject;
  readonly queue_list: { readonly marker?: string; readonly limit?: number; readonly detailed?: boolean };
  readonly queue_create: QueueBody & { readonly metadata?: JsonObject };
  readonly queue_delete: QueueBody;
  readonly queue_get: QueueBody;
  readonly queue_get_stats: QueueBody;
  readonly queue_purge: QueueBody & { readonly resource_types?: readonly Json[] };
  readonly message_list: QueueBody & {
    readonly marker?: string;
    readonly limit?: number;
    readonly echo?: boolean;
    readonly include_claimed?: boolean;
    /** Not in Zaqar's schema but read by its endpoint (any type, Python truthiness rules). */
    readonly include_delayed?: Json;
  };
  readonly message_get: QueueBody & { readonly message_id: string };
  readonly message_get_many: QueueBody & { readonly message_ids: readonly Json[] };
  readonly message_post: QueueBody & { readonly messages: readonly Json[] };
  readonly message_delete: QueueBody & { readonly message_id: string; readonly claim_id?: string };
  readonly message_delete_many: QueueBody & {
    readonly message_ids?: readonly Json[];
    readonly claim_ids?: readonly Json[];
    readonly pop?: number;
  };
  readonly claim_create: QueueBody & { readonly ttl?: number; readonly grace?: number; readonly limit?: number };
  readonly claim_get: QueueBody & { readonly claim_id: string };
  readonly claim_update: QueueBody & { readonly claim_id: string; readonly ttl?: number; readonly grace?: number };
  readonly claim_delete: QueueBody & { readonly claim_id: string };
  readonly subscription_create: QueueBody & {
    readonly subscriber?: string;
    readonly ttl?: number;
    readonly options?: JsonObject;
    /** Reattach extension: replay after this marker (or `first`), then live. */
    readonly marker?: string;
  };
  readonly subscription_delete: QueueBody & { readonly subscription_id: string };
  readonly subscription_get: QueueBody & { readonly subscription_id: string };
  readonly subscription_list: QueueBody & { readonly marker?: string; readonly limit?: number };
  readonly get_home_doc: JsonObject;
  readonly check_node_health: JsonObject;
  readonly ping_node: JsonObject;
  readonly pool_list: { readonly pool_name: string };
  readonly pool_create: { readonly pool_name: string };
  readonly pool_get: { readonly pool_name: string };
  readonly pool_update: { readonly pool_name: string };
  readonly pool_delete: { readonly pool_name: string };
  readonly flavor_list: { readonly flavor_name: string };
  readonly flavor_create: { readonly flavor_name: string };
  readonly flavor_get: { readonly flavor_name: string };
  readonly flavor_update: { readonly flavor_name: string };
  readonly flavor_delete: { readonly flavor_name: string };
}

/** Request headers after validation (`Client-ID` is absent only on `authenticate`). */
export interface FrameHeaders {
  readonly 'X-Project-ID': string;
  readonly 'Client-ID'?: string;
  readonly 'X-Auth-Token'?: string;
  readonly [name: string]: Json | undefined;
}
