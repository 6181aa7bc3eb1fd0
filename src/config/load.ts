/**
 * Builds the configuration once at boot: optional JSON file (CONFIG_FILE) → environment
 * table on top → ajv against `schemas/config.schema.json` (defaults, coercion, no unknown
 * keys) → cross-field checks → deep freeze. Every problem is reported in one
 * {@link ConfigError}; nothing is half-applied.
 */
import { parseCidrs } from '../notifications/subscriber-guard.js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Ajv, type ErrorObject } from 'ajv';
import { redactUrl } from '../observability/redact.js';
import { CONFIG_FILE_VAR, ENV_VARS, readEnv, type Env } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { Config } from './types.js';

/** The schema file, found relative to this module (same layout under `src/` and `dist/`). */
export const CONFIG_SCHEMA_URL = new URL('../../schemas/config.schema.json', import.meta.url);

export interface LoadConfigOptions {
  /** The environment; only the variables of `ENV_VARS` and `CONFIG_FILE` are read. Default: none. */
  readonly env?: Env;
  /** Reads the config file as UTF-8 text; default `fs.readFileSync`. */
  readonly readFile?: (path: string) => string;
}

type Mutable = Record<string, unknown>;

/**
 * Loads, validates and freezes the configuration.
 *
 * @throws ConfigError (`ZQR_ERR_CONFIG_INVALID`) listing every problem at once.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const issues: ConfigIssue[] = [];
  const sources = new Map<string, string>();

  const filePath = env[CONFIG_FILE_VAR]?.trim();
  let fileLabel: string | undefined;
  let raw: Mutable = {};
  if (filePath !== undefined && filePath !== '') {
    fileLabel = `file ${filePath}`;
    const fromFile = readConfigFile(filePath, readFile);
    if ('issue' in fromFile) issues.push({ path: '', source: fileLabel, message: fromFile.issue });
    else raw = fromFile.value;
  }

  const overlay = readEnv(env);
  for (const issue of overlay.issues) issues.push({ path: pathOf(issue.variable), source: `env ${issue.variable}`, message: issue.message });
  for (const entry of overlay.entries) {
    setPath(raw, entry.path, entry.value);
    sources.set(entry.path.join('.'), `env ${entry.variable}`);
  }

  return validateConfig(raw, { issues, sourceOf: (path) => sourceOf(path, sources, fileLabel) });
}

/**
 * Validates a config object (the shape of `schemas/config.schema.json`, with defaults
 * filled in) and freezes it. Used by {@link loadConfig} and by tests that build a config
 * directly, e.g. `parseConfig({ server: { restPort: 0, wsPort: 0 } })`.
 *
 * @throws ConfigError listing every problem.
 */
export function parseConfig(raw: unknown): Config {
  return validateConfig(structuredClone(raw), { issues: [], sourceOf: () => 'object' });
}

interface ValidateContext {
  readonly issues: ConfigIssue[];
  readonly sourceOf: (path: string) => string;
}

function validateConfig(data: unknown, ctx: ValidateContext): Config {
  defaultBackendType(data);
  const validate = compileSchema();
  if (!validate(data)) {
    for (const e of validate.errors ?? []) ctx.issues.push(toIssue(e, data, ctx.sourceOf));
  }
  // Also when the schema found problems: every problem is reported at once.
  const reported = new Set(ctx.issues.map((i) => i.path));
  for (const issue of crossFieldIssues(data)) {
    if (!reported.has(issue.path)) ctx.issues.push({ ...issue, source: ctx.sourceOf(issue.path) });
  }
  if (ctx.issues.length > 0) throw new ConfigError(ctx.issues);
  return deepFreeze(data as Config);
}

/**
 * A backend object without `type` is the memory backend. The schema cannot say so itself:
 * the discriminator needs the tag before any branch's defaults apply.
 */
function defaultBackendType(data: unknown): void {
  if (isObject(data) && isObject(data['backend']) && data['backend']['type'] === undefined) data['backend']['type'] = 'memory';
}

function compileSchema(): ReturnType<Ajv['compile']> {
  const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as Mutable;
  // `discriminator` lets defaults apply inside the backend's oneOf branches.
  const ajv = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: true, discriminator: true, strict: true, strictRequired: false });
  return ajv.compile(schema);
}

function readConfigFile(path: string, readFile: (p: string) => string): { value: Mutable } | { issue: string } {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    return { issue: `cannot read the config file: ${e instanceof Error ? e.message : String(e)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { issue: `the config file is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!isObject(value)) return { issue: 'the config file must hold a JSON object' };
  return { value };
}

/** A bind address: an IP address or a DNS name (RFC 1123 labels). */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * Rules JSON Schema draft-07 cannot express: min ≤ default ≤ max, a bind address that can be
 * bound, the settings an auth strategy needs. Runs on data the schema may have refused elsewhere: each rule checks its own types.
 */
function crossFieldIssues(data: unknown): Omit<ConfigIssue, 'source'>[] {
  const issues: Omit<ConfigIssue, 'source'>[] = authIssues(data);
  const webhooks = isObject(data) ? data['webhooks'] : undefined;
  const cidrs = isObject(webhooks) ? webhooks['allowedCidrs'] : undefined;
  if (typeof cidrs === 'string') {
    try {
      parseCidrs(cidrs);
    } catch (e) {
      issues.push({ path: 'webhooks.allowedCidrs', message: `must be comma-separated CIDRs: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  const server = isObject(data) ? data['server'] : undefined;
  const host = isObject(server) ? server['host'] : undefined;
  if (typeof host === 'string' && host !== '' && isIP(host) === 0 && !HOSTNAME.test(host)) {
    issues.push({ path: 'server.host', message: `must be an IP address or a host name (got ${JSON.stringify(host)})` });
  }
  const limits = isObject(data) ? data['limits'] : undefined;
  if (!isObject(limits)) return issues;
  const num = (k: string): number => {
    const v = limits[k];
    return typeof v === 'number' ? v : Number.NaN;
  };
  const l = {
    minMessageTtl: num('minMessageTtl'), defaultMessageTtl: num('defaultMessageTtl'), maxMessageTtl: num('maxMessageTtl'),
    minClaimTtl: num('minClaimTtl'), defaultClaimTtl: num('defaultClaimTtl'), maxClaimTtl: num('maxClaimTtl'),
    minClaimGrace: num('minClaimGrace'), defaultClaimGrace: num('defaultClaimGrace'), maxClaimGrace: num('maxClaimGrace'),
    minSubscriptionTtl: num('minSubscriptionTtl'), defaultSubscriptionTtl: num('defaultSubscriptionTtl'),
    defaultPageSize: num('defaultPageSize'), maxMessagesPerPage: num('maxMessagesPerPage'),
  };
  const triples: [string, number, number, number][] = [
    ['defaultMessageTtl', l.minMessageTtl, l.defaultMessageTtl, l.maxMessageTtl],
    ['defaultClaimTtl', l.minClaimTtl, l.defaultClaimTtl, l.maxClaimTtl],
    ['defaultClaimGrace', l.minClaimGrace, l.defaultClaimGrace, l.maxClaimGrace],
    ['defaultSubscriptionTtl', l.minSubscriptionTtl, l.defaultSubscriptionTtl, Number.POSITIVE_INFINITY],
    ['defaultPageSize', 1, l.defaultPageSize, l.maxMessagesPerPage],
  ];
  return issues.concat(triples
    .filter(([, min, value, max]) => value < min || value > max)
    .map(([key, min, value, max]) => ({
      path: `limits.${key}`,
      message: `must be between ${min} and ${max === Number.POSITIVE_INFINITY ? 'infinity' : max} (got ${value})`,
    })));
}

/** The settings each auth strategy cannot work without (read from the raw data, like the rest). */
function authIssues(data: unknown): Omit<ConfigIssue, 'source'>[] {
  const raw = isObject(data) ? data['auth'] : undefined;
  const a = isObject(raw) ? raw : {};
  const strategy = a['strategy'];
  const missing = (keys: readonly string[]): Omit<ConfigIssue, 'source'>[] =>
    keys.filter((k) => a[k] === undefined).map((k) => ({ path: `auth.${k}`, message: `is required when auth.strategy is ${String(strategy)}` }));
  if (strategy === 'keystone') return missing(['keystoneUrl', 'keystoneUsername', 'keystonePassword', 'keystoneProjectName']);
  if (strategy === 'jwt' && (a['jwtJwksUrl'] === undefined) === (a['jwtPublicKeyFile'] === undefined)) {
    return [{ path: 'auth.jwtJwksUrl', message: 'exactly one of jwtJwksUrl and jwtPublicKeyFile is required when auth.strategy is jwt' }];
  }
  return [];
}

function toIssue(e: ErrorObject, data: unknown, sourceOf: (path: string) => string): ConfigIssue {
  const base = e.instancePath.split('/').slice(1);
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty?: unknown }).additionalProperty);
    const path = [...base, extra].join('.');
    const where = base.join('.') === 'backend' ? `with the ${String(valueAt(data, [...base, 'type']))} backend` : 'here';
    return { path, source: sourceOf(path), message: `is not a known setting ${where}` };
  }
  const path = base.join('.');
  if (e.keyword === 'discriminator') {
    return { path: `${path}.type`, source: sourceOf(`${path}.type`), message: 'must be one of: memory, rabbitmq' };
  }
  if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty?: unknown }).missingProperty);
    const full = path === '' ? missing : `${path}.${missing}`;
    return { path: full, source: sourceOf(full), message: 'is required' };
  }
  const value = valueAt(data, base);
  const shown = value === undefined ? '' : ` (got ${JSON.stringify(path === 'backend.url' && typeof value === 'string' ? redactUrl(value) : value)})`;
  const allowed = e.keyword === 'enum' ? `: ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}` : '';
  return { path, source: sourceOf(path), message: `${e.message ?? 'is invalid'}${allowed}${shown}` };
}

function sourceOf(path: string, sources: ReadonlyMap<string, string>, fileLabel: string | undefined): string {
  for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const s = sources.get(p);
    if (s !== undefined) return s;
  }
  return fileLabel ?? 'default';
}

/** The config path an env variable feeds, for issue reports. */
function pathOf(variable: string): string {
  return ENV_VARS.find((v) => v.name === variable)?.path.join('.') ?? variable;
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let cur = data;
  for (const key of path) {
    if (!isObject(cur) && !Array.isArray(cur)) return undefined;
    cur = (cur as Mutable)[key];
  }
  return cur;
}

function setPath(target: Mutable, path: readonly string[], value: unknown): void {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (!isObject(next)) cur[key] = {};
    cur = cur[key] as Mutable;
  }
  const last = path.at(-1);
  if (last !== undefined) cur[last] = value;
}

function isObject(v: unknown): v is Mutable {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
