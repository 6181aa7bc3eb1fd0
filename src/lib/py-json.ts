/**
 * JSON text as Python's `json.dumps` writes it with default arguments, which is what Zaqar
 * puts on the wire: `", "` and `": "` separators and `ensure_ascii` (every non-ASCII
 * character escaped as `\uXXXX`). Byte-for-byte fidelity keeps transcripts diffable with the
 * real server's; clients parse either form.
 *
 * Only JSON-compatible values are expected (the core stores parsed JSON); `undefined`
 * members are skipped like `JSON.stringify` does.
 */
export function pyJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

const NON_ASCII = /[\u0080-\uffff]/g;
const HAS_NON_ASCII = /[\u0080-\uffff]/;

function quote(s: string): string {
  const q = JSON.stringify(s);
  return HAS_NON_ASCII.test(q)
    ? q.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : q;
}

function write(value: unknown, out: string[]): void {
  if (value === null || value === undefined) {
    out.push('null');
  } else if (typeof value === 'string') {
    out.push(quote(value));
  } else if (typeof value === 'number') {
    // Python writes NaN/Infinity literally; JSON cannot carry them, so they never arrive here.
    out.push(Number.isFinite(value) ? JSON.stringify(value) : 'null');
  } else if (typeof value === 'boolean') {
    out.push(value ? 'true' : 'false');
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(', ');
      write(item, out);
    });
    out.push(']');
  } else if (typeof value === 'object') {
    out.push('{');
    let first = true;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      if (!first) out.push(', ');
      first = false;
      out.push(quote(k), ': ');
      write(v, out);
    }
    out.push('}');
  } else {
    out.push('null');
  }
}
