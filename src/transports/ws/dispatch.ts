/**
 * Runs one validated request through its handler and turns the result, or the failure, into
 * a status and body (reference §3.3). Never throws.
 */
import { isZaqarError } from '../../core/errors.js';
import type { Json } from '../../core/types.js';
import type { Action, ActionBodies, FrameHeaders } from './actions.js';
import type { RequestEcho } from './frames.js';
import { AUTH_ECHO, endpointError, unexpectedError } from './frames.js';
import type { HandlerDeps, Reply, Session } from './handlers/index.js';
import { HANDLERS } from './handlers/index.js';
import type { ValidRequest } from './request.js';

/** The answer to one request, plus the failure behind an error status (for logging). */
export interface Outcome {
  readonly echo: RequestEcho;
  readonly status: number;
  readonly body: Json;
  readonly failure?: unknown;
}

interface RequestOf<A extends Action> {
  readonly action: A;
  readonly body: ActionBodies[A];
  readonly headers: FrameHeaders;
}

function invoke<A extends Action>(req: RequestOf<A>, binary: boolean, session: Session, deps: HandlerDeps): Promise<Reply> {
  const handler = HANDLERS[req.action];
  const ctx = { project: req.headers['X-Project-ID'], clientId: null };
  return handler({ action: req.action, body: req.body, headers: req.headers, ctx, binary, session }, deps);
}

export async function dispatch(req: ValidRequest, binary: boolean, session: Session, deps: HandlerDeps): Promise<Outcome> {
  try {
    const r = await invoke(req, binary, session, deps);
    return { echo: r.authEcho === true ? AUTH_ECHO : req.echo, status: r.status, body: r.body };
  } catch (e: unknown) {
    if (isZaqarError(e)) return { echo: req.echo, status: e.status, body: endpointError(e), failure: e };
    return { echo: req.echo, status: 500, body: unexpectedError(e), failure: e };
  }
}
