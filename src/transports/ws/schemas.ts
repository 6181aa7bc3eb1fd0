/**
 * One JSON schema per action, modelled on Zaqar's `zaqar/api/v2/request.py`: required header
 * keys, required body keys and the JSON types of declared properties. Extra keys are allowed
 * everywhere. All schemas are compiled once, by one Ajv instance, when this module loads.
 *
 * The validated document is the normalised request `{action, headers, body}` (absent
 * `headers`/`body` already replaced by `{}`), as Zaqar validates it.
 */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { Action } from './actions.js';
import { ACTIONS } from './actions.js';

type PropType = 'string' | 'integer' | 'boolean' | 'array' | 'object';
type Props = Readonly<Record<string, PropType>>;

const HEADER_PROPS: Props = {
  'User-Agent': 'string',
  Date: 'string',
  Accept: 'string',
  'Client-ID': 'string',
  'X-Project-ID': 'string',
  'X-Auth-Token': 'string',
};

/** Headers every action but `authenticate` requires. */
const CLIENT_HEADERS = ['Client-ID', 'X-Project-ID'] as const;

interface ActionSpec {
  /** Declared body properties with their JSON types. */
  readonly props?: Props;
  /** Required body keys. */
  readonly required?: readonly string[];
  /** Required header keys; default Client-ID and X-Project-ID. */
  readonly headers?: readonly string[];
}

const Q: Props = { queue_name: 'string' };
const QUEUE_ONLY: ActionSpec = { props: Q, required: ['queue_name'] };
const POOL: ActionSpec = { props: { pool_name: 'string' }, required: ['pool_name'] };
const FLAVOR: ActionSpec = { props: { flavor_name: 'string' }, required: ['flavor_name'] };

const SPECS: { readonly [A in Action]: ActionSpec } = {
  authenticate: { headers: ['X-Project-ID', 'X-Auth-Token'] },
  queue_list: { props: { marker: 'string', limit: 'integer', detailed: 'boolean' } },
  queue_create: { props: { ...Q, metadata: 'object' }, required: ['queue_name'] },
  queue_delete: QUEUE_ONLY,
  queue_get: QUEUE_ONLY,
  queue_get_stats: QUEUE_ONLY,
  queue_purge: { props: { ...Q, resource_types: 'array' }, required: ['queue_name'] },
  message_list: {
    props: { ...Q, marker: 'string', limit: 'integer', echo: 'boolean', include_claimed: 'boolean' },
    required: ['queue_name'],
  },
  message_get: { props: { ...Q, message_id: 'string' }, required: ['queue_name', 'message_id'] },
  message_get_many: { props: { ...Q, message_ids: 'array' }, required: ['queue_name', 'message_ids'] },
  message_post: { props: { ...Q, messages: 'array' }, required: ['queue_name', 'messages'] },
  message_delete: {
    props: { ...Q, message_id: 'string', claim_id: 'string' },
    required: ['queue_name', 'message_id'],
  },
  message_delete_many: {
    props: { ...Q, message_ids: 'array', claim_ids: 'array', pop: 'integer' },
    required: ['queue_name'],
  },
  claim_create: { props: { ...Q, limit: 'integer', ttl: 'integer', grace: 'integer' }, required: ['queue_name'] },
  claim_get: { props: { ...Q, claim_id: 'string' }, required: ['queue_name', 'claim_id'] },
  claim_update: {
    props: { ...Q, claim_id: 'string', ttl: 'integer', grace: 'integer' },
    required: ['queue_name', 'claim_id'],
  },
  claim_delete: { props: { ...Q, claim_id: 'string' }, required: ['queue_name', 'claim_id'] },
  subscription_create: {
    // `marker` is our reattach extension (docs/protocol-extensions.md).
    props: { ...Q, subscriber: 'string', ttl: 'integer', options: 'object', marker: 'string' },
    required: ['queue_name'],
  },
  subscription_delete: { props: { ...Q, subscription_id: 'string' }, required: ['queue_name', 'subscription_id'] },
  subscription_get: { props: { ...Q, subscription_id: 'string' }, required: ['queue_name', 'subscription_id'] },
  subscription_list: { props: { ...Q, marker: 'string', limit: 'integer' }, required: ['queue_name'] },
  get_home_doc: {},
  check_node_health: {},
  ping_node: {},
  pool_list: POOL,
  pool_create: POOL,
  pool_get: POOL,
  pool_update: POOL,
  pool_delete: POOL,
  flavor_list: FLAVOR,
  flavor_create: FLAVOR,
  flavor_get: FLAVOR,
  flavor_update: FLAVOR,
  flavor_delete: FLAVOR,
};

function typed(props: Props): Record<string, { type: PropType }> {
  return Object.fromEntries(Object.entries(props).map(([k, t]) => [k, { type: t }]));
}

/** Builds the JSON schema of one action's normalised request. */
function frameSchema(spec: ActionSpec): Record<string, unknown> {
  return {
    type: 'object',
    required: ['action', 'headers', 'body'],
    properties: {
      action: { type: 'string' },
      headers: {
        type: 'object',
        required: [...(spec.headers ?? CLIENT_HEADERS)],
        properties: {
          ...typed(HEADER_PROPS),
          // Deviation: Zaqar accepts an empty project; our core needs a non-empty one.
          'X-Project-ID': { type: 'string', minLength: 1 },
        },
      },
      body: { type: 'object', required: [...(spec.required ?? [])], properties: typed(spec.props ?? {}) },
    },
  };
}

const ajv = new Ajv({ allErrors: false, strict: true });

/** Compiled validators, one per action. */
const VALIDATORS: ReadonlyMap<Action, ValidateFunction> = new Map(
  ACTIONS.map((a) => [a, ajv.compile(frameSchema(SPECS[a]))]),
);

/** Whether the normalised request of `action` passes its schema. */
export function frameIsValid(action: Action, request: { action: unknown; headers: unknown; body: unknown }): boolean {
  const validate = VALIDATORS.get(action);
  return validate !== undefined && validate(request) === true;
}
