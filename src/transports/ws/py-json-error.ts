/**
 * The message Python's `json.loads` (3.11) raises for a malformed document, e.g.
 * `Expecting property name enclosed in double quotes: line 1 column 2 (char 1)`. Zaqar puts
 * it in its decode error (reference §3.2 step 1); reproducing it keeps transcripts diffable.
 *
 * A small scanner that walks the text the way CPython's C decoder (`Modules/_json.c`, the one
 * `json.loads` uses) does and stops at the first error. Positions are UTF-16 indices (Python counts code points; they differ only after
 * astral characters).
 */

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const CONSTANTS = ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity'];

class PyJsonError extends Error {
  constructor(
    readonly msg: string,
    readonly pos: number,
  ) {
    super(msg);
  }
}

/** `StopIteration(idx)` of Python's scanner: no value starts at `pos`. */
class NoValue extends Error {
  constructor(readonly pos: number) {
    super('no value');
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s.charAt(i))) i++;
  return i;
}

function scanString(s: string, end: number): number {
  const begin = end - 1;
  for (;;) {
    while (end < s.length) {
      const c = s.charAt(end);
      if (c === '"' || c === '\\' || c.charCodeAt(0) < 0x20) break;
      end++;
    }
    if (end >= s.length) throw new PyJsonError('Unterminated string starting at', begin);
    const t = s.charAt(end);
    end++;
    if (t === '"') return end;
    if (t !== '\\') throw new PyJsonError('Invalid control character at', end - 1);
    if (end >= s.length) throw new PyJsonError('Unterminated string starting at', begin);
    const esc = s.charAt(end);
    if (esc !== 'u') {
      if (!ESCAPES.has(esc)) throw new PyJsonError('Invalid \\escape', end - 1);
      end++;
      continue;
    }
    if (!/^[0-9a-fA-F]{4}$/.test(s.slice(end + 1, end + 5))) throw new PyJsonError('Invalid \\uXXXX escape', end);
    end += 5;
  }
}

function scanObject(s: string, end: number): number {
  end = skipWs(s, end);
  if (s.charAt(end) === '}') return end + 1;
  if (s.charAt(end) !== '"') throw new PyJsonError('Expecting property name enclosed in double quotes', end);
  end++;
  for (;;) {
    end = skipWs(s, scanString(s, end));
    if (s.charAt(end) !== ':') throw new PyJsonError("Expecting ':' delimiter", end);
    end = skipWs(s, end + 1);
    end = skipWs(s, scanValueOrFail(s, end));
    const next = s.charAt(end);
    end++;
    if (next === '}') return end;
    if (next !== ',') throw new PyJsonError("Expecting ',' delimiter", end - 1);
    end = skipWs(s, end);
    if (s.charAt(end) !== '"') throw new PyJsonError('Expecting property name enclosed in double quotes', end);
    end++;
  }
}

function scanArray(s: string, end: number): number {
  end = skipWs(s, end);
  if (s.charAt(end) === ']') return end + 1;
  for (;;) {
    end = skipWs(s, scanValueOrFail(s, end));
    const next = s.charAt(end);
    end++;
    if (next === ']') return end;
    if (next !== ',') throw new PyJsonError("Expecting ',' delimiter", end - 1);
    end = skipWs(s, end);
  }
}

function scanValueOrFail(s: string, i: number): number {
  try {
    return scanValue(s, i);
  } catch (e: unknown) {
    if (e instanceof NoValue) throw new PyJsonError('Expecting value', e.pos);
    throw e;
  }
}

function scanValue(s: string, i: number): number {
  const c = s.charAt(i);
  if (c === '"') return scanString(s, i + 1);
  if (c === '{') return scanObject(s, i + 1);
  if (c === '[') return scanArray(s, i + 1);
  for (const k of CONSTANTS) if (s.startsWith(k, i)) return i + k.length;
  NUMBER.lastIndex = i;
  if (NUMBER.exec(s) !== null) return NUMBER.lastIndex;
  throw new NoValue(i);
}

function locate(s: string, msg: string, pos: number): string {
  const line = (s.slice(0, pos).match(/\n/g)?.length ?? 0) + 1;
  const col = pos - s.lastIndexOf('\n', pos - 1);
  return `${msg}: line ${line} column ${col} (char ${pos})`;
}

/**
 * Python's `JSONDecodeError` message for `s`, or a generic one when Python would have
 * accepted the text (e.g. `NaN`, which JavaScript rejects).
 */
export function pythonJsonError(s: string): string {
  try {
    const end = skipWs(s, scanValueOrFail(s, skipWs(s, 0)));
    if (end !== s.length) return locate(s, 'Extra data', end);
  } catch (e: unknown) {
    if (e instanceof PyJsonError) return locate(s, e.msg, e.pos);
  }
  return locate(s, 'Expecting value', 0);
}
