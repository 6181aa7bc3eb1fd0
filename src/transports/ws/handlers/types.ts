/**
 * What an action handler gets and returns. Handlers turn one validated request into one
 * reply; they throw {@link ZaqarError}s for endpoint errors (rendered by the connection).
 */
import type { Authenticator, Caller } from '../../../auth/index.js';
import type { Limits } from '../../../core/limits.js';
import type { AttachResult, AttachStart, Json, RequestContext, ZaqarService } from '../../../core/types.js';
import type { Action, ActionBodies, FrameHeaders } from '../actions.js';

/** The connection-scoped services a handler may use (only subscriptions need them). */
export interface Session {
  /** This connection's subscriber URL, `http://<host>:<port>/<connection-uuid>`. */
  readonly subscriberUrl: string;
  /**
   * Starts delivering notifications of `queue` to this connection for the subscription `id`.
   * Resolves once delivery is active; `binary` is the frame type of the creating request.
   */
  attach(project: string, queue: string, id: string, binary: boolean): Promise<void>;
  /**
   * Reattach extension: like {@link attach}, but replays what was posted after `start`
   * first, and delivers notifications with the reattach fields (message id and marker).
   * Replayed frames follow the response of the current request.
   */
  reattach(project: string, queue: string, id: string, binary: boolean, start: AttachStart): Promise<AttachResult>;
  /** The token of the last successful `authenticate` and its identity (auth modes), or null. */
  readonly caller: Caller | null;
}

export interface Call<A extends Action> {
  readonly action: A;
  readonly body: ActionBodies[A];
  readonly headers: FrameHeaders;
  /** Project from `X-Project-ID`; `clientId` is null (only message_list/post parse it). */
  readonly ctx: RequestContext;
  /** Whether the request came in a binary (MessagePack) frame. */
  readonly binary: boolean;
  readonly session: Session;
}

export interface Reply {
  readonly status: number;
  readonly body: Json;
  /** Echo `{"action": "authenticate", "body": {}, "headers": {}}` instead of the request. */
  readonly authEcho?: true;
}

export interface HandlerDeps {
  readonly service: ZaqarService;
  readonly limits: Limits;
  /** Token verification; absent = noauth (the connection gate in `connection.ts` uses it). */
  readonly auth?: Authenticator;
  /** Secret of pre-signed URLs: signed frames pass the gate before `authenticate` (§3.4.4). */
  readonly signedUrlKey?: string;
}

export type Handler<A extends Action> = (call: Call<A>, deps: HandlerDeps) => Promise<Reply>;

/** Exhaustive handler table: a missing action does not compile. */
export type HandlerTable = { readonly [A in Action]: Handler<A> };

export function reply(status: number, body: Json): Reply {
  return { status, body };
}
