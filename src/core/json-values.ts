/**
 * Values a decoded request may hold that JSON cannot carry: MessagePack binary, timestamps and
 * extension types (a binary WebSocket frame), and non-finite numbers (`1e400` parses to
 * `Infinity`). Stored as written, they would read back differently from the broker's JSON copy
 * (on another pod, or after a reopen) than from the pod that wrote them, so they are refused.
 */

/** The first value JSON cannot carry, with its path from the root; null when all is JSON. */
export interface NonJsonValue {
  /** Keys and indexes from the root to the value. */
  readonly path: readonly (string | number)[];
  /** What the value is, in words. */
  readonly what: string;
}

/**
 * Finds the first value JSON cannot carry. Recursive: callers bound the nesting first (every
 * caller checks the depth limit before).
 */
export function findNonJsonValue(value: unknown): NonJsonValue | null {
  const found = walk(value);
  if (found === null) return null;
  return { path: found.keys.reverse(), what: found.what };
}

interface Found {
  readonly keys: (string | number)[];
  readonly what: string;
}

function walk(v: unknown): Found | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : { keys: [], what: `the number ${String(v)}` };
  if (v === undefined) return { keys: [], what: 'undefined' };
  if (typeof v !== 'object') return { keys: [], what: `a ${typeof v}` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = walk(v[i]);
      if (f !== null) return withKey(f, i);
    }
    return null;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return { keys: [], what: kindOf(v) };
  for (const key of Object.keys(v)) {
    const f = walk((v as Record<string, unknown>)[key]);
    if (f !== null) return withKey(f, key);
  }
  return null;
}

function withKey(f: Found, key: string | number): Found {
  f.keys.push(key);
  return f;
}

function kindOf(v: object): string {
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return 'binary data (MessagePack bin)';
  if (v instanceof Date) return 'a timestamp (MessagePack timestamp extension)';
  const name = v.constructor?.name;
  if (name === 'ExtData') return 'a MessagePack extension type';
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'a value that is not JSON';
}

/** `root.key[0]["odd key"]`: a path as a reader would write it to find the field. */
export function formatPath(root: string, path: readonly (string | number)[]): string {
  let out = root;
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(k)) out += `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out;
}
