/**
 * The explicit table of environment variables and the config path each one sets. This
 * table is the only way the environment reaches the configuration: a variable that is not
 * listed here is ignored. The README's configuration table mirrors it.
 *
 * Values stay strings here; ajv coerces them (`coerceTypes`) when the result is validated,
 * so a bad number is reported with the schema's wording. A blank value counts as unset.
 */

/** How the raw string becomes a config value. */
type EnvParser = 'string' | 'queue-schemas';

export interface EnvVarSpec {
  /** The variable name, e.g. `PORT`. */
  readonly name: string;
  /** Path in the config object, e.g. `['server', 'restPort']`. */
  readonly path: readonly string[];
  readonly parse: EnvParser;
  /** Another path set to a constant when this variable is set (RABBITMQ_URL selects the backend). */
  readonly implies?: { readonly path: readonly string[]; readonly value: string };
  /** The default as a user reads it (the schema holds the real one). */
  readonly defaultText: string;
  readonly description: string;
}

/** Names the JSON config file; not itself part of the config. */
export const CONFIG_FILE_VAR = 'CONFIG_FILE';

export const ENV_VARS: readonly EnvVarSpec[] = [
  { name: 'HOST', path: ['server', 'host'], parse: 'string', defaultText: '127.0.0.1', description: 'Interface both listeners bind to.' },
  { name: 'PORT', path: ['server', 'restPort'], parse: 'string', defaultText: '8888', description: 'REST API port; 0 picks a free port (the log says which).' },
  { name: 'WS_PORT', path: ['server', 'wsPort'], parse: 'string', defaultText: '9000', description: 'WebSocket API port; 0 picks a free port.' },
  { name: 'UI_ENABLED', path: ['ui', 'enabled'], parse: 'string', defaultText: 'false', description: 'Serve the live-tail page at /_ui/ on the REST port (true/false).' },
  { name: 'UI_WS_URL', path: ['ui', 'wsUrl'], parse: 'string', defaultText: "the page's host on WS_PORT", description: 'WebSocket URL the live-tail page connects to (e.g. wss://host/ws behind an Ingress).' },
  { name: 'CORS_ORIGINS', path: ['server', 'corsOrigins'], parse: 'string', defaultText: 'unset (no CORS)', description: 'Origins whose browser pages may call the REST API: comma-separated exact origins (https://ui.example.org), or *.' },
  { name: 'TLS_CERT_FILE', path: ['server', 'tls', 'certFile'], parse: 'string', defaultText: '(none)', description: 'PEM certificate (chain) file: both listeners serve HTTPS/WSS. Needs TLS_KEY_FILE.' },
  { name: 'TLS_KEY_FILE', path: ['server', 'tls', 'keyFile'], parse: 'string', defaultText: '(none)', description: 'PEM private key file of TLS_CERT_FILE. Needs TLS_CERT_FILE.' },
  {
    name: 'RABBITMQ_URL',
    path: ['backend', 'url'],
    parse: 'string',
    implies: { path: ['backend', 'type'], value: 'rabbitmq' },
    defaultText: 'unset (embedded memory backend)',
    description: 'AMQP URL, or a comma-separated list of the nodes of a cluster (tried in turn on failover); setting it selects the RabbitMQ backend.',
  },
  { name: 'RABBITMQ_STREAM_CLUSTER_SIZE', path: ['backend', 'streamClusterSize'], parse: 'string', defaultText: "unset (the broker's default)", description: 'Replicas of each new stream on a RabbitMQ cluster (x-initial-cluster-size), e.g. 3.' },
  { name: 'RABBITMQ_EXCHANGE', path: ['backend', 'exchange'], parse: 'string', defaultText: 'zaqar', description: 'Topic exchange (RabbitMQ backend only).' },
  { name: 'MEMORY_RETENTION_MS', path: ['backend', 'retentionMs'], parse: 'string', defaultText: 'backend default (15 days)', description: 'Record retention of the memory backend, ms (memory backend only).' },
  { name: 'LOG_LEVEL', path: ['log', 'level'], parse: 'string', defaultText: 'info', description: 'fatal, error, warn, info, debug, trace or silent. A line per REST request (received, completed) only from `debug` on.' },
  { name: 'MAX_MESSAGES_POST_SIZE', path: ['limits', 'maxMessagesPostSize'], parse: 'string', defaultText: '262144', description: 'Largest message post, bytes.' },
  { name: 'DEFAULT_MESSAGE_TTL', path: ['limits', 'defaultMessageTtl'], parse: 'string', defaultText: '3600', description: 'Message ttl when the post gives none, seconds.' },
  { name: 'SCHEMA_DIR', path: ['validation', 'schemaDir'], parse: 'string', defaultText: 'unset', description: 'Directory of extra message JSON Schemas (*.json).' },
  {
    name: 'QUEUE_SCHEMAS',
    path: ['validation', 'queueSchemas'],
    parse: 'queue-schemas',
    defaultText: 'unset',
    description: 'Bindings `pattern=schema,…` (e.g. `tripleo*=tripleo-workflow-message-v1,events=orchestrator-event-v1`); first match wins.',
  },
  { name: 'WEBHOOK_ALLOWED_CIDRS', path: ['webhooks', 'allowedCidrs'], parse: 'string', defaultText: 'unset', description: 'CIDRs webhooks may reach although loopback, link-local or private.' },
  { name: 'SHUTDOWN_TIMEOUT_MS', path: ['shutdown', 'timeoutMs'], parse: 'string', defaultText: '10000', description: 'Hard deadline of a graceful shutdown, ms.' },
  { name: 'WS_HEARTBEAT_INTERVAL_MS', path: ['ws', 'heartbeatIntervalMs'], parse: 'string', defaultText: '30000', description: 'WebSocket ping interval, ms.' },
  { name: 'WS_MAX_FRAME_BYTES', path: ['ws', 'maxFrameBytes'], parse: 'string', defaultText: '16 MiB (or MAX_MESSAGES_POST_SIZE + 64 KiB if larger)', description: 'Hard cap on an inbound WebSocket frame, bytes: larger frames close the socket with 1009; smaller oversized posts get the 400 frame.' },
  { name: 'AUTH_STRATEGY', path: ['auth', 'strategy'], parse: 'string', defaultText: 'noauth', description: '`noauth` (trust `X-Project-ID`), `keystone` or `jwt`.' },
  { name: 'AUTH_CACHE_TTL_SECONDS', path: ['auth', 'cacheTtlSeconds'], parse: 'string', defaultText: '300', description: 'How long a validated token is trusted (never past its expiry); a revoked token stops working within it.' },
  { name: 'AUTH_TIMEOUT_MS', path: ['auth', 'timeoutMs'], parse: 'string', defaultText: '3000', description: 'Deadline of one request to Keystone or the JWKS URL; past it the client gets 503.' },
  { name: 'KEYSTONE_URL', path: ['auth', 'keystoneUrl'], parse: 'string', defaultText: 'unset', description: 'Keystone v3 endpoint, e.g. `http://keystone:5000/v3` (keystone).' },
  { name: 'KEYSTONE_USERNAME', path: ['auth', 'keystoneUsername'], parse: 'string', defaultText: 'unset', description: 'Service user validating tokens (keystone).' },
  { name: 'KEYSTONE_PASSWORD', path: ['auth', 'keystonePassword'], parse: 'string', defaultText: 'unset', description: 'Service user password, never logged (keystone).' },
  { name: 'KEYSTONE_PROJECT_NAME', path: ['auth', 'keystoneProjectName'], parse: 'string', defaultText: 'unset', description: 'Service project (keystone).' },
  { name: 'KEYSTONE_USER_DOMAIN_NAME', path: ['auth', 'keystoneUserDomainName'], parse: 'string', defaultText: 'Default', description: 'Service user domain (keystone).' },
  { name: 'KEYSTONE_PROJECT_DOMAIN_NAME', path: ['auth', 'keystoneProjectDomainName'], parse: 'string', defaultText: 'Default', description: 'Service project domain (keystone).' },
  { name: 'JWT_JWKS_URL', path: ['auth', 'jwtJwksUrl'], parse: 'string', defaultText: 'unset', description: 'JWKS of the issuer, cached, refetched for an unknown `kid` (jwt; or JWT_PUBLIC_KEY_FILE).' },
  { name: 'JWT_JWKS_COOLDOWN_MS', path: ['auth', 'jwtJwksCooldownMs'], parse: 'string', defaultText: '30000', description: 'Least time between two JWKS fetches (a new key is picked up after it), ms (jwt).' },
  { name: 'JWT_PUBLIC_KEY_FILE', path: ['auth', 'jwtPublicKeyFile'], parse: 'string', defaultText: 'unset', description: 'PEM public key verifying tokens (jwt).' },
  { name: 'JWT_ISSUER', path: ['auth', 'jwtIssuer'], parse: 'string', defaultText: 'unset', description: 'Required `iss` (jwt).' },
  { name: 'JWT_AUDIENCE', path: ['auth', 'jwtAudience'], parse: 'string', defaultText: 'unset', description: 'Required `aud` (jwt).' },
  { name: 'JWT_PROJECT_CLAIM', path: ['auth', 'jwtProjectClaim'], parse: 'string', defaultText: 'project_id', description: 'Claim holding the project (jwt).' },
  { name: 'JWT_ROLES_CLAIM', path: ['auth', 'jwtRolesClaim'], parse: 'string', defaultText: 'roles', description: 'Claim holding the roles, array or comma list (jwt).' },
  { name: 'SIGNED_URL_KEY', path: ['auth', 'signedUrlKey'], parse: 'string', defaultText: 'unset', description: 'Secret of pre-signed URLs (REST); unset = `share` answers 400 as Zaqar without a key.' },
  { name: 'WS_MAX_BUFFERED_BYTES', path: ['ws', 'maxBufferedBytes'], parse: 'string', defaultText: '4 MiB', description: 'Outbound buffer ceiling per WebSocket connection, bytes.' },
];

/** A problem found while reading the environment (reported with the schema errors). */
export interface EnvIssue {
  readonly variable: string;
  readonly message: string;
}

/** The environment as config sees it; `process.env` fits. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvOverlay {
  /** Values to set, by path. */
  readonly entries: readonly { readonly path: readonly string[]; readonly value: unknown; readonly variable: string }[];
  readonly issues: readonly EnvIssue[];
}

/** Reads every variable of {@link ENV_VARS} that is set and not blank. */
export function readEnv(env: Env): EnvOverlay {
  const entries: { path: readonly string[]; value: unknown; variable: string }[] = [];
  const issues: EnvIssue[] = [];
  for (const spec of ENV_VARS) {
    const raw = env[spec.name];
    if (raw === undefined || raw.trim() === '') continue;
    const parsed = parseValue(spec, raw.trim());
    if ('issue' in parsed) {
      issues.push({ variable: spec.name, message: parsed.issue });
      continue;
    }
    if (spec.implies !== undefined) entries.push({ path: spec.implies.path, value: spec.implies.value, variable: spec.name });
    entries.push({ path: spec.path, value: parsed.value, variable: spec.name });
  }
  return { entries, issues };
}

function parseValue(spec: EnvVarSpec, raw: string): { value: unknown } | { issue: string } {
  switch (spec.parse) {
    case 'string':
      return { value: raw };
    case 'queue-schemas': {
      const bindings = parseQueueSchemas(raw);
      return Array.isArray(bindings) ? { value: bindings } : bindings;
    }
  }
}

/**
 * Parses `pattern=schema[,pattern=schema…]`. Returns `{ issue }` for an entry without `=`;
 * the pattern and schema texts themselves are checked by the schema.
 */
export function parseQueueSchemas(raw: string): { pattern: string; schema: string }[] | { issue: string } {
  const bindings: { pattern: string; schema: string }[] = [];
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) {
      return { issue: `entry "${item}" is not of the form pattern=schema` };
    }
    bindings.push({ pattern: item.slice(0, eq).trim(), schema: item.slice(eq + 1).trim() });
  }
  return bindings;
}
