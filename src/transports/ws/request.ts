/**
 * Steps 2–3 of Zaqar's request processing (reference §3.2): the decoded frame must be an
 * object, its action must exist, and the normalised request must pass the action's schema.
 * Decoding (step 1) is in `codec.ts`; there is no authentication gate in no-auth mode (step 4).
 */
import { pyJson } from '../../lib/py-json.js';
import type { Action, ActionBodies, FrameHeaders } from './actions.js';
import { isAction } from './actions.js';
import type { RequestEcho } from './frames.js';
import { NULL_ECHO } from './frames.js';
import { frameIsValid } from './schemas.js';

/** A request that passed validation, typed by its action. */
export type ValidRequest = {
  readonly [A in Action]: {
    readonly action: A;
    readonly body: ActionBodies[A];
    readonly headers: FrameHeaders;
    readonly echo: RequestEcho;
  };
}[Action];

/** A protocol-level rejection: answered with `{"error": text}`. */
export interface Rejection {
  readonly echo: RequestEcho;
  readonly status: 400;
  readonly error: string;
}

export type Parsed = { readonly ok: true; readonly request: ValidRequest } | { readonly ok: false; readonly rejection: Rejection };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Python's `str()` of a decoded JSON value, as Zaqar formats an unknown action. */
function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  return pyJson(v);
}

function reject(echo: RequestEcho, error: string): Parsed {
  return { ok: false, rejection: { echo, status: 400, error } };
}

/** Validates a decoded frame. */
export function parseRequest(frame: unknown): Parsed {
  if (!isObject(frame)) return reject(NULL_ECHO, 'Unexpected body type. Expected dict or dict like.');
  const action = frame['action'] ?? null;
  const body = 'body' in frame ? frame['body'] : {};
  const headers = frame['headers'] ?? {};
  const echo: RequestEcho = { action, body, headers };
  if (!isAction(action)) return reject(echo, `${pyStr(action)} is not a valid action`);
  if (!frameIsValid(action, { action, headers, body })) return reject(echo, 'Schema validation failed.');
  // The schema guarantees the shapes declared in ActionBodies and FrameHeaders.
  const request = { action, body, headers, echo } as ValidRequest;
  return { ok: true, request };
}
