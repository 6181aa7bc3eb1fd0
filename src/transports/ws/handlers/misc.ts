/**
 * `authenticate` in no-auth mode and the schema-only actions (reference §3.4.1, §3.5).
 * Real Zaqar never answers these and wedges the connection; we always answer.
 */
import type { Action } from '../actions.js';
import type { Handler, Reply } from './types.js';
import { reply } from './types.js';

/** Deliberate deviation (reference §3.4.1): answer like a successful Keystone authentication. */
export const authenticate: Handler<'authenticate'> = () =>
  Promise.resolve({ status: 200, body: { message: 'Authentified.' }, authEcho: true });

export const poolList: Handler<'pool_list'> = () => Promise.resolve(reply(200, { pools: [] }));

export const flavorList: Handler<'flavor_list'> = () => Promise.resolve(reply(200, { flavors: [] }));

/** Handler for an action Zaqar declares but never implemented over WebSocket. */
export function notImplemented<A extends Action>(action: A): Handler<A> {
  const answer: Reply = reply(501, { error: `${action} is not implemented over WebSocket.` });
  return () => Promise.resolve(answer);
}
