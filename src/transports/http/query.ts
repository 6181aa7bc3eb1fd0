/**
 * Query strings as Falcon 3 reads them with Zaqar's options (`auto_parse_qs_csv = True`,
 * `keep_blank_qs_values = False`): blank values dropped, comma lists split, repeated keys
 * collected; a single-valued getter returns the last value. Also Falcon's `to_query_str`,
 * used to build `next` links.
 */
import { invalidParam } from './http-error.js';

export type QueryValue = string | string[];
export type Query = ReadonlyMap<string, QueryValue>;

const TRUE_STRINGS = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const FALSE_STRINGS = new Set(['false', 'f', 'no', 'n', '0', 'off']);
const PY_INT = /^\s*[+-]?\d+(_\d+)*\s*$/;

function decode(s: string): string {
  const spaced = s.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function splitCsv(v: string): string[] {
  return v.split(',').filter((e) => e !== '').map(decode);
}

/** Parses the query part of a request URL (everything after the first `?`). */
export function parseQuery(url: string): Map<string, QueryValue> {
  const params = new Map<string, QueryValue>();
  const at = url.indexOf('?');
  if (at < 0) return params;
  for (const field of url.slice(at + 1).split('&')) {
    const eq = field.indexOf('=');
    const rawKey = eq < 0 ? field : field.slice(0, eq);
    const rawValue = eq < 0 ? '' : field.slice(eq + 1);
    if (rawValue === '') continue;
    const key = decode(rawKey);
    const values = rawValue.includes(',') ? splitCsv(rawValue) : decode(rawValue);
    const old = params.get(key);
    if (old === undefined) params.set(key, values);
    else params.set(key, [...toList(old), ...toList(values)]);
  }
  return params;
}

function toList(v: QueryValue): string[] {
  return typeof v === 'string' ? [v] : v;
}

/** The raw value (last one when repeated), or undefined. */
export function getParam(q: Query, name: string): string | undefined {
  const v = q.get(name);
  if (v === undefined || typeof v === 'string') return v;
  return v[v.length - 1];
}

/** Every value (comma lists and repeated keys), or undefined when absent. */
export function getList(q: Query, name: string): string[] | undefined {
  const v = q.get(name);
  return v === undefined ? undefined : toList(v);
}

/** Python `int()` of the value; 400 "Invalid parameter" when it is not an integer. */
export function getInt(q: Query, name: string): number | undefined {
  const v = getParam(q, name);
  if (v === undefined) return undefined;
  if (!PY_INT.test(v)) throw invalidParam(name, 'The value must be an integer.');
  return Number(v.replaceAll('_', '').trim());
}

/** Falcon's boolean strings, case-insensitively (python-zaqarclient sends `True`). */
export function getBool(q: Query, name: string): boolean | undefined {
  const v = getParam(q, name);
  if (v === undefined) return undefined;
  const lower = v.toLowerCase();
  if (TRUE_STRINGS.has(lower)) return true;
  if (FALSE_STRINGS.has(lower)) return false;
  throw invalidParam(name, 'The value of the parameter must be "true" or "false".');
}

/** Ordered parameters of a `next` link (insertion order matters, as in a Python dict). */
export type LinkParams = Map<string, string | number | boolean>;

/** `marker` then `limit`, as every listing reads them first; the link starts with them. */
export function pagingParams(q: Query): { marker: string | undefined; limit: number | undefined; link: LinkParams } {
  const link: LinkParams = new Map();
  const marker = getParam(q, 'marker');
  if (marker !== undefined) link.set('marker', marker);
  const limit = getInt(q, 'limit');
  if (limit !== undefined) link.set('limit', limit);
  return { marker, limit, link };
}

/** Falcon's `to_query_str`: `?k=v&…`, booleans as `true`/`false`, or '' when empty. */
export function toQueryString(params: LinkParams): string {
  if (params.size === 0) return '';
  const parts: string[] = [];
  for (const [k, v] of params) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return `?${parts.join('&')}`;
}
