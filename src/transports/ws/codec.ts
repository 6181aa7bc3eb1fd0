/**
 * Frame codec: JSON text frames and MessagePack binary frames (reference §3.1). Text is
 * written as Python's `json.dumps` writes it ({@link pyJson}); decode errors carry Zaqar's
 * texts (reference §3.2 step 1).
 */
import { decode, encode } from '@msgpack/msgpack';
import { MAX_BODY_DEPTH, nestsDeeperThan } from '../../core/rules.js';
import { pyJson } from '../../lib/py-json.js';
import { pythonJsonError } from './py-json-error.js';

/** Result of decoding one frame: the value, or Zaqar's `error` text. */
export type Decoded = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/**
 * Levels a frame wraps around a message body: the frame, its `body`, `messages`, the item.
 * A frame deeper than the body limit plus these could not even be echoed back in its
 * response (reference §3.3), so it is refused whole, as a request that cannot be decoded.
 */
export const FRAME_WRAPPING_DEPTH = 4;

/** Decodes a frame payload as `ws` hands it over. */
export function decodeFrame(data: Buffer, isBinary: boolean): Decoded {
  const decoded = isBinary ? decodeMsgpack(data) : decodeJson(data.toString('utf8'));
  if (decoded.ok && nestsDeeperThan(decoded.value, MAX_BODY_DEPTH + FRAME_WRAPPING_DEPTH)) {
    return {
      ok: false,
      error: `Request is nested too deeply: a message body may nest at most ${MAX_BODY_DEPTH} levels of arrays and objects.`,
    };
  }
  return decoded;
}

function decodeJson(text: string): Decoded {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: `Can't decode text (JSON) request. JSONDecodeError: ${pythonJsonError(text)}` };
  }
}

function decodeMsgpack(data: Buffer): Decoded {
  try {
    return { ok: true, value: decode(data) };
  } catch (e: unknown) {
    return { ok: false, error: `Can't decode binary (MessagePack) request. ${msgpackErrorText(e)}` };
  }
}

/** Maps @msgpack/msgpack failures onto the names Python's `msgpack.unpackb` would raise. */
function msgpackErrorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (message.startsWith('Extra ')) return 'ExtraData: unpack(b) received extra data.';
  if (message.startsWith('Insufficient data')) return 'ValueError: Unpack failed: incomplete input';
  if (message.startsWith('Unrecognized type byte')) return 'FormatError: ';
  return `ValueError: ${message}`;
}

/** Encodes a frame to send; text frames are UTF-8 of the Python-compatible JSON text. */
export function encodeFrame(value: unknown, binary: boolean): Buffer {
  if (!binary) return Buffer.from(pyJson(value), 'utf8');
  const packed = encode(value, { ignoreUndefined: true });
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
}
