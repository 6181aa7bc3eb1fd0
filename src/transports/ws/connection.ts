/**
 * One WebSocket connection: requests answered strictly in order (one promise chain), each in
 * the frame type it came in; notifications pushed between responses, never ahead of the
 * response being computed; bounded send buffer; its websocket subscriptions deleted when it
 * closes (reference §3.6, §3.7).
 */
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { isAction } from './actions.js';
import { isAdmin, isAuthError, type Caller } from '../../auth/index.js';
import { verifySignature } from '../../auth/signed-url.js';
import { decodeFrame, encodeFrame } from './codec.js';
import type { Outcome } from './dispatch.js';
import { dispatch } from './dispatch.js';
import { AUTH_ECHO, NULL_ECHO, protocolError, responseFrame, unexpectedError } from './frames.js';
import type { HandlerDeps, Session } from './handlers/index.js';
import type { AttachResult, AttachStart, Json, Notification } from '../../core/types.js';
import { Coalescer } from './coalescer.js';
import { reattachEncoding, type EncodedNotification, type FanOutTelemetry, type NotificationHub, type NotificationSink } from './notifications.js';
import { parseRequest, type ValidRequest } from './request.js';
import { SocketBatch, type RawSocket } from './write-batch.js';

/** Requests queued on one connection before it stops reading from the socket. */
const MAX_PENDING_REQUESTS = 256;
/** ms a slow consumer gets to take its close frame before the socket is destroyed. */
const SLOW_CONSUMER_GRACE_MS = 2_000;
/** The HTTP method each signable action stands for (reference §3.4.4); others cannot be signed. */
const SIGNED_ACTION_METHODS: Partial<Record<string, string>> = {
  message_list: 'GET',
  message_get: 'GET',
  message_get_many: 'GET',
  message_post: 'POST',
  message_delete: 'DELETE',
  message_delete_many: 'DELETE',
};

/** Zaqar's close when the token of an authenticated connection expires (reference §3.4.2). */
export const AUTH_EXPIRED_CLOSE = { code: 4003, reason: 'Authentication expired.' } as const;
/** setTimeout's ceiling; a later expiry is re-armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;
/** Actions that need the admin role when auth is on (Zaqar's admin API). */
const ADMIN_ACTIONS: ReadonlySet<string> = new Set([
  'check_node_health',
  'pool_list', 'pool_create', 'pool_get', 'pool_update', 'pool_delete',
  'flavor_list', 'flavor_create', 'flavor_get', 'flavor_update', 'flavor_delete',
]);

export interface ConnectionOptions {
  /** Connection uuid (also in the subscriber URL). */
  readonly id: string;
  readonly socket: WebSocket;
  /**
   * The TCP (or TLS) socket under `socket`. Notifications are written to it as whole frames
   * built once per notification (EncodedNotification.frame), and the frames of one turn are
   * corked on it. Without it they go through `socket.send`.
   */
  readonly rawSocket?: RawSocket;
  readonly deps: HandlerDeps;
  readonly hub: NotificationHub;
  /** Child logger carrying `connId`. */
  readonly logger: Logger;
  readonly subscriberUrl: string;
  /** Bytes of unsent data after which the peer is closed with 1008. */
  readonly maxBufferedBytes: number;
  readonly telemetry?: WsTelemetry;
}

/** What a connection reports for metrics (the composition root counts it). */
export interface WsTelemetry extends FanOutTelemetry {
  /** One request answered; `seconds` from decoding to the response being sent. */
  request(action: string, status: number, seconds: number): void;
  slowClientCutOff(): void;
  replay(replayed: number, gap: boolean): void;
  /** Websocket subscriptions delivering to connections: +1 attached, -1 stopped. */
  subscriptions(delta: number): void;
}

interface OwnSubscription {
  readonly project: string;
  readonly queue: string;
  readonly id: string;
  readonly stop: () => void;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class Connection implements Session, NotificationSink {
  readonly id: string;
  readonly subscriberUrl: string;
  /** Resolves once the connection is closed and its subscriptions are cleaned up. */
  readonly done: Promise<void>;

  readonly #socket: WebSocket;
  /** The raw socket notifications are written to, with its place in the current turn. */
  readonly #raw: { readonly socket: RawSocket; readonly batch: SocketBatch } | null;
  readonly #deps: HandlerDeps;
  readonly #hub: NotificationHub;
  readonly #log: Logger;
  readonly #maxBuffered: number;
  readonly #telemetry: WsTelemetry | undefined;
  readonly #subscriptions: OwnSubscription[] = [];
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  /** A request is being handled: notifications wait until its response is sent. */
  #busy = false;
  #deferred: Buffer[] = [];
  #deferredBytes = 0;
  /** Frame type of notifications: that of the last subscriber-less subscription_create. */
  #notifyBinary = false;
  /** No more frames are sent (closing, closed or cut off). */
  #silenced = false;
  /**
   * The token of the last successful `authenticate` and its identity (auth modes only): the
   * gate's project check, and what the connection asks on the caller's behalf (trusts).
   */
  #caller: Caller | null = null;
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(opts: ConnectionOptions) {
    this.id = opts.id;
    this.subscriberUrl = opts.subscriberUrl;
    this.#socket = opts.socket;
    this.#raw = opts.rawSocket === undefined ? null : { socket: opts.rawSocket, batch: new SocketBatch(opts.rawSocket) };
    this.#deps = opts.deps;
    this.#hub = opts.hub;
    this.#log = opts.logger;
    this.#maxBuffered = opts.maxBufferedBytes;
    this.#telemetry = opts.telemetry;
    this.#socket.on('message', (data, isBinary) => this.#enqueue(toBuffer(data), isBinary));
    // `ws` reports protocol violations (oversized frame → 1009, bad UTF-8 → 1007) then closes.
    this.#socket.on('error', (err) => this.#log.info({ err }, 'ws: socket error'));
    this.done = new Promise((resolve) => {
      this.#socket.once('close', (code, reason) => {
        this.#silenced = true;
        clearTimeout(this.#expiryTimer);
        this.#log.debug({ code, reason: reason.toString() }, 'ws: connection closed');
        // After the frames already received are handled (one may be creating a subscription).
        this.#chain = this.#chain.then(() => this.#cleanup()).then(resolve, resolve);
      });
    });
  }

  /** Closes the connection (server shutdown). */
  shutdown(code: number, reason: string): void {
    this.#silenced = true;
    this.#socket.close(code, reason);
  }

  /** Destroys the socket at once. */
  terminate(): void {
    this.#socket.terminate();
  }

  /** {@link Session.attach}: subscription `id` now delivers to this connection. */
  async attach(project: string, queue: string, id: string, binary: boolean): Promise<void> {
    const stop = await this.#hub.add(this, project, queue, id);
    this.#subscriptions.push({ project, queue, id, stop });
    this.#telemetry?.subscriptions(1);
    this.#notifyBinary = binary;
  }

  /** {@link Session.reattach}: replay after `start`, then live, in the reattach shape. */
  async reattach(project: string, queue: string, id: string, binary: boolean, start: AttachStart): Promise<AttachResult> {
    const { service } = this.#deps;
    let stopped = false;
    let stop = (): void => {
      stopped = true;
    };
    // Called synchronously for the replay (while this request is being answered, so the
    // frames wait for its response), then for every live message, in log order. Only live
    // messages coalesce (`_coalesce`): the replay is delivered whole.
    const coalescer = new Coalescer(
      () => service.coalescing(project, queue),
      (n) => this.#deliverCounted(reattachEncoding(n)),
    );
    let live = false;
    const listener = (n: Notification): void => {
      if (stopped) return;
      if (!service.subscriptionAlive(project, queue, id)) {
        stop();
        return;
      }
      if (live) coalescer.push(n);
      else this.#deliverCounted(reattachEncoding(n));
    };
    this.#notifyBinary = binary;
    const result = await service.attach(project, queue, listener, start);
    live = true;
    stop = () => {
      stopped = true;
      coalescer.close();
      result.stop();
    };
    if (stopped) result.stop();
    this.#telemetry?.replay(result.replayed, result.gap);
    this.#subscriptions.push({ project, queue, id, stop: () => stop() });
    this.#telemetry?.subscriptions(1);
    return result;
  }

  /** {@link Session.caller}. */
  get caller(): Caller | null {
    return this.#caller;
  }

  /** {@link NotificationSink.deliver}. */
  deliver(n: EncodedNotification): boolean {
    if (this.#silenced) return false;
    // A whole frame for the raw socket, or the payload for `ws` to frame.
    const data = this.#raw === null ? n.data(this.#notifyBinary) : n.frame(this.#notifyBinary);
    if (!this.#busy) {
      this.#sendNotification(data);
      return true;
    }
    this.#deferred.push(data);
    this.#deferredBytes += data.length;
    this.#checkBackpressure(data.length);
    return true;
  }

  /** A delivery of this connection's own (reattach), counted here rather than by the hub. */
  #deliverCounted(n: EncodedNotification): void {
    const delivered = this.deliver(n); // not inside `?.(…)`: no telemetry must still deliver
    this.#telemetry?.notification(delivered ? 'delivered' : 'dropped', 1);
  }

  #enqueue(data: Buffer, isBinary: boolean): void {
    this.#pending += 1;
    if (this.#pending > MAX_PENDING_REQUESTS && !this.#socket.isPaused) this.#socket.pause();
    this.#chain = this.#chain
      .then(() => this.#handle(data, isBinary))
      .catch((err: unknown) => this.#log.error({ err }, 'ws: request handling failed'))
      .finally(() => {
        this.#pending -= 1;
        if (this.#socket.isPaused && this.#pending <= MAX_PENDING_REQUESTS / 2) this.#socket.resume();
      });
  }

  /** Answers one frame; every frame gets exactly one response, whatever goes wrong. */
  async #handle(data: Buffer, isBinary: boolean): Promise<void> {
    const started = process.hrtime.bigint();
    let outcome: Outcome;
    try {
      outcome = await this.#process(data, isBinary);
    } catch (err: unknown) {
      outcome = { echo: NULL_ECHO, status: 500, body: unexpectedError(err), failure: err };
    }
    this.#logOutcome(outcome);
    let frame: Buffer;
    try {
      frame = encodeFrame(responseFrame(outcome.echo, outcome.body, outcome.status), isBinary);
    } catch (err: unknown) {
      this.#log.error({ err }, 'ws: response could not be encoded');
      frame = encodeFrame(responseFrame(NULL_ECHO, unexpectedError(err), 500), isBinary);
    }
    this.#send(frame, isBinary);
    this.#telemetry?.request(isAction(outcome.echo.action) ? outcome.echo.action : 'invalid', outcome.status, Number(process.hrtime.bigint() - started) / 1e9);
    this.#busy = false;
    this.#flushDeferred();
  }

  async #process(data: Buffer, isBinary: boolean): Promise<Outcome> {
    const decoded = decodeFrame(data, isBinary);
    if (!decoded.ok) return { echo: NULL_ECHO, status: 400, body: protocolError(decoded.error) };
    const parsed = parseRequest(decoded.value);
    if (!parsed.ok) {
      const { echo, status, error } = parsed.rejection;
      return { echo, status, body: protocolError(error) };
    }
    this.#busy = true;
    if (this.#deps.auth !== undefined) {
      const refused = await this.#authGate(parsed.request);
      if (refused !== null) return refused;
    }
    return dispatch(parsed.request, isBinary, this, this.#deps);
  }

  /**
   * Zaqar's gate with Keystone (reference §3.4.2): `authenticate` binds the token's identity;
   * before it every other frame gets 403 "Not authentified."; after it a frame naming another
   * project gets 403 "Not authenticated.". Returns the refusal, or null to dispatch.
   */
  async #authGate(req: ValidRequest): Promise<Outcome | null> {
    const auth = this.#deps.auth;
    if (auth === undefined) return null;
    if (req.action === 'authenticate') return this.#authenticate(req.headers['X-Auth-Token'] ?? '');
    const identity = this.#caller?.identity ?? null;
    if (identity === null) {
      if (this.#preSignedAllows(req)) return null;
      return { echo: req.echo, status: 403, body: protocolError('Not authentified.') };
    }
    if (req.headers['X-Project-ID'] !== identity.project) {
      return { echo: req.echo, status: 403, body: protocolError('Not authenticated.') };
    }
    if (ADMIN_ACTIONS.has(req.action) && !isAdmin(identity)) {
      return { echo: req.echo, status: 403, body: protocolError('You are not authorized to complete this action.') };
    }
    return null;
  }

  /**
   * Zaqar's pre-signed frames (reference §3.4.4): before `authenticate`, a frame with a
   * `URL-Signature` header passes when the signature over `URL-Paths`, `URL-Methods`,
   * `X-Project-ID` and `URL-Expires` verifies, the action's HTTP method is listed, and its
   * queue's messages path matches a listed path. Only message actions can be signed.
   */
  #preSignedAllows(req: ValidRequest): boolean {
    const key = this.#deps.signedUrlKey;
    const h = req.headers;
    const signature = h['URL-Signature'];
    if (key === undefined || typeof signature !== 'string' || signature === '') return false;
    const method = SIGNED_ACTION_METHODS[req.action];
    const strings = (v: Json | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? v.split(',') : []);
    const methods = strings(h['URL-Methods']);
    const paths = strings(h['URL-Paths']);
    const expires = h['URL-Expires'];
    if (method === undefined || !methods.includes(method) || typeof expires !== 'string') return false;
    const queue = (req.body as { queue_name?: unknown }).queue_name;
    if (typeof queue !== 'string') return false;
    const path = `/v2/queues/${queue}/messages`;
    if (!paths.some((p) => p !== '' && path.includes(p))) return false;
    return verifySignature(key, paths, h['X-Project-ID'], methods, expires, signature, Date.now());
  }

  async #authenticate(token: string): Promise<Outcome> {
    const auth = this.#deps.auth;
    if (auth === undefined) throw new Error('authenticate gate without an authenticator');
    try {
      const identity = await auth.verify(token);
      this.#caller = { token, identity };
      this.#armExpiry(identity.expiresAt);
      return { echo: AUTH_ECHO, status: 200, body: { message: 'Authentified.' } };
    } catch (err) {
      if (isAuthError(err) && err.kind === 'unavailable') {
        this.#log.warn({ event: 'auth_unavailable', strategy: auth.strategy, err: err.message }, 'auth: verifier unavailable');
        return { echo: AUTH_ECHO, status: 503, body: protocolError('Authentication service unavailable.') };
      }
      // Zaqar keeps the previous identity (if any) and the socket: the client may retry.
      return { echo: AUTH_ECHO, status: 401, body: protocolError('Authentication failed.') };
    }
  }

  /** Closes with 4003 when the token expires; a new `authenticate` replaces the timer. */
  #armExpiry(expiresAt: number | null): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (expiresAt === null) return;
    const delay = expiresAt - Date.now();
    this.#expiryTimer = setTimeout(() => {
      if (expiresAt > Date.now()) {
        this.#armExpiry(expiresAt);
        return;
      }
      this.#caller = null;
      this.#log.info({ event: 'ws_auth_expired' }, 'ws: token expired, closing');
      this.#silenced = true;
      this.#socket.close(AUTH_EXPIRED_CLOSE.code, AUTH_EXPIRED_CLOSE.reason);
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    this.#expiryTimer.unref();
  }

  #logOutcome(o: Outcome): void {
    const fields = { action: o.echo.action, status: o.status };
    if (o.status >= 500) this.#log.error({ ...fields, err: o.failure }, 'ws: request failed');
    else if (o.status >= 400) this.#log.info({ ...fields, body: o.body }, 'ws: request rejected');
    else this.#log.debug(fields, 'ws: request handled');
  }

  #flushDeferred(): void {
    const frames = this.#deferred;
    this.#deferred = [];
    this.#deferredBytes = 0;
    for (const data of frames) this.#sendNotification(data);
  }

  /**
   * A notification: its whole frame written to the raw socket, joining this turn's other frames
   * there (write-batch.ts); or, without a raw socket, its payload sent through `ws`.
   *
   * Writing beside `ws` keeps the order of all frames: `ws` queues nothing of its own when
   * permessage-deflate is off (server.ts) and it is never given a Blob, so each of its sends
   * is written to this same socket at once, and its `bufferedAmount` counts these bytes too.
   */
  #sendNotification(data: Buffer): void {
    const raw = this.#raw;
    if (raw === null) {
      this.#send(data, this.#notifyBinary);
      return;
    }
    if (this.#silenced || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#hub.writes.beforeWrite(raw.batch);
    raw.socket.write(data);
    this.#checkBackpressure(data.length);
  }

  #send(data: Buffer, binary: boolean): void {
    if (this.#silenced || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(data, { binary });
    this.#checkBackpressure(data.length);
  }

  /**
   * A peer that does not read is cut off rather than buffered without bound (style 18). What
   * counts is the backlog *before* the frame just queued (`latest` bytes): one frame larger than
   * the bound — the echo of a big request, say — goes to a peer that reads, and a peer that
   * does not is cut off with at most the bound plus one frame held for it.
   */
  #checkBackpressure(latest: number): void {
    if (this.#silenced) return;
    const buffered = this.#socket.bufferedAmount + this.#deferredBytes;
    if (buffered - latest <= this.#maxBuffered) return;
    this.#log.warn({ buffered, limit: this.#maxBuffered }, 'ws: slow consumer closed');
    this.#telemetry?.slowClientCutOff();
    this.#silenced = true;
    this.#deferred = [];
    this.#deferredBytes = 0;
    this.#socket.close(1008, 'Send buffer limit exceeded (slow consumer).');
    setTimeout(() => this.#socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
  }

  /** Stops delivery and deletes this connection's websocket subscriptions (reference §3.6). */
  async #cleanup(): Promise<void> {
    const subs = this.#subscriptions.splice(0);
    for (const s of subs) s.stop();
    if (subs.length > 0) this.#telemetry?.subscriptions(-subs.length);
    const { service } = this.#deps;
    const results = await Promise.allSettled(
      subs.map((s) => service.deleteSubscription({ project: s.project, clientId: null }, s.queue, s.id)),
    );
    for (const r of results) {
      if (r.status === 'rejected') this.#log.error({ err: r.reason }, 'ws: subscription cleanup failed');
    }
  }
}
