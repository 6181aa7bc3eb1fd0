/**
 * Zaqar's pre-signed URLs (reference §4.9, `zaqar/common/urls.py`): an HMAC-SHA256, keyed by
 * the operator's secret, over the sorted paths, the sorted methods, the project and the
 * expiry, joined by the two characters `\` `n` (a raw string in Zaqar's source).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedUrl {
  readonly paths: readonly string[];
  readonly methods: readonly string[];
  readonly project: string;
  readonly expires: string;
  readonly signature: string;
}

/** ms a share lasts when its request names no expiry (Zaqar's one day). */
const DEFAULT_LIFETIME_MS = 86_400_000;

/** Parses an ISO-8601 time as Zaqar's `parse_isotime` (no zone = UTC); NaN when invalid. */
function parseIso(text: string): number {
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text}Z`;
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?/.test(text) ? Date.parse(zoned) : Number.NaN;
}

/** `%Y-%m-%dT%H:%M:%S` in UTC. */
function formatExpires(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/**
 * Signs `paths` for `project`. Throws an Error carrying Zaqar's ValueError text for a bad
 * expiry (the REST route turns it into a 400, the check into a 404).
 */
export function createSignedUrl(key: string, paths: readonly string[], project: string, methods: readonly string[], expires: string | undefined, now: number): SignedUrl {
  const at = expires === undefined ? now + DEFAULT_LIFETIME_MS : parseIso(expires);
  if (Number.isNaN(at)) throw new Error(`Invalid expires value: ${expires ?? ''}`);
  if (at < now) throw new Error('`expires` is lower than the current time');
  const sortedPaths = [...paths].sort();
  const sortedMethods = [...methods].sort();
  const expiresText = formatExpires(at);
  const body = `${sortedPaths.join(',')}\\n${sortedMethods.join(',')}\\n${project}\\n${expiresText}`;
  const signature = createHmac('sha256', key).update(body).digest('hex');
  return { paths: sortedPaths, methods: sortedMethods, project, expires: expiresText, signature };
}

/** Whether `signature` is the one Zaqar would compute; false for an expired or bad expiry. */
export function verifySignature(key: string, paths: readonly string[], project: string, methods: readonly string[], expires: string, signature: string, now: number): boolean {
  let expected: SignedUrl;
  try {
    expected = createSignedUrl(key, paths, project, methods, expires, now);
  } catch {
    return false;
  }
  const a = Buffer.from(expected.signature);
  const b = Buffer.from(signature);
  return a.length === b.length && timingSafeEqual(a, b);
}
