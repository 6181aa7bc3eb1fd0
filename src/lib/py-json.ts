/**
 * JSON text as Python's `json.dumps` writes it with default arguments, which is what Zaqar
 * puts on the wire: `", "` and `": "` separators and `ensure_ascii` (every non-ASCII
 * character escaped as `\uXXXX`). Byte-for-byte fidelity keeps transcripts diffable with the
 * real server's; clients parse either form.
 *
 * It is on the hot path (every response and notification), so it post-processes V8's fast
 * `JSON.stringify` in one pass instead of walking the value: outside strings, a space goes
 * after every `,` and `:`; inside strings, characters from U+0080 are escaped. `undefined`
 * members are skipped, as `JSON.stringify` does.
 */
export function pyJson(value: unknown): string {
  const compact = JSON.stringify(value) ?? 'null';
  const parts: string[] = [];
  let last = 0;
  let inString = false;
  for (let i = 0; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      else if (c >= 0x80) {
        parts.push(compact.slice(last, i), `\\u${c.toString(16).padStart(4, '0')}`);
        last = i + 1;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x2c /* , */ || c === 0x3a /* : */) {
      parts.push(compact.slice(last, i + 1), ' ');
      last = i + 1;
    }
  }
  if (last === 0) return compact;
  parts.push(compact.slice(last));
  return parts.join('');
}
