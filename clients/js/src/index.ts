export { createClient } from './client.js';
export type {
  AttachInfo,
  Client,
  ClientEvents,
  ClientOptions,
  GapInfo,
  Message,
  PostMessage,
  SocketConstructor,
  SocketLike,
  SubscribeOptions,
  Subscription,
} from './client.js';
export { ConnectionClosedError, TimeoutError, ZaqarError } from './errors.js';
export type { ReconnectOptions } from './util.js';
export type { Listener } from './emitter.js';
