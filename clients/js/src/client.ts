/**
 * The zaqar-bridge client: one WebSocket that reconnects by itself, re-authenticates, and
 * reattaches every subscription from the last marker it delivered (docs/protocol-extensions.md
 * §1), so the application sees each message once, in order, across reconnects and pod changes.
 *
 * Browser and Node alike: it uses only a WebSocket (the global one, or the `WebSocket` option,
 * e.g. the `ws` package's), timers and JSON.
 */
import { ConnectionClosedError, TimeoutError, ZaqarError } from './errors.js';
import { Emitter, type Listener } from './emitter.js';
import { backoffDelay, isAfter, randomId, type ReconnectOptions } from './util.js';

/**
 * An event handler slot. Written as a method so its parameter is checked bivariantly: the
 * browser's and the `ws` package's sockets type their events more precisely than we need.
 */
type Handler<E> = { handle(event: E): void }['handle'];

/** What the client needs of a WebSocket: the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type SocketConstructor = new (url: string) => SocketLike;

export interface ClientOptions {
  /** `ws://host:9000/` or `wss://…`. */
  readonly url: string;
  readonly projectId: string;
  /** A UUID; one is made when absent. */
  readonly clientId?: string;
  /** A fixed token (Keystone or JWT), sent with `authenticate` on every connect. */
  readonly token?: string;
  /** Called on every connect, so a refreshed token is used after a reconnect. Wins over `token`. */
  readonly getToken?: () => string | Promise<string>;
  /** Backoff between reconnects; `false`: never reconnect. */
  readonly reconnect?: ReconnectOptions | false;
  /** An answer that takes longer is a `TimeoutError`, and the socket is replaced. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** A `ping_node` request this often proves the link alive; 0 disables. Default 25 s. */
  readonly pingIntervalMs?: number;
  /** `ttl` of the server-side subscriptions (they end with the socket anyway). Default 7 days. */
  readonly subscriptionTtl?: number;
  /** The WebSocket class; default `globalThis.WebSocket` (pass `ws`'s on Node 20). */
  readonly WebSocket?: SocketConstructor;
}

/** One message as the application receives it. */
export interface Message<T = unknown> {
  readonly queue: string;
  readonly id: string;
  readonly body: T;
  readonly ttl: number;
  /** Its position in the queue's log: persist it to resume from here (`from: marker`). */
  readonly marker: string;
}

export interface GapInfo {
  readonly queue: string;
  /** How many held messages are replayed after the gap. */
  readonly replayed: number;
  /** The marker the server resumed after. */
  readonly marker: string | null;
}

export interface AttachInfo {
  readonly queue: string;
  readonly replayed: number;
  readonly gap: boolean;
  /** False for the first attach of this subscription, true after a reconnect. */
  readonly reattach: boolean;
}

export interface SubscribeOptions {
  /** `'next'` (default): only new messages; `'first'`: all still held; or a stored marker. */
  readonly from?: 'next' | 'first' | (string & {});
  /** Messages were lost between the marker and what is held (ttl, retention, replay window). */
  readonly onGap?: (info: GapInfo) => void;
  /**
   * Each (re)attach, before its replayed messages: how many the server replays (repeats of
   * what was delivered already are then skipped), whether there is a gap, and if this is a
   * reattach.
   */
  readonly onAttach?: (info: AttachInfo) => void;
  /** The subscription was refused (e.g. 403, an invalid marker) or the handler threw. */
  readonly onError?: (err: Error) => void;
}

export interface Subscription {
  readonly queue: string;
  /** The marker of the last message delivered (null before the first). */
  readonly marker: string | null;
  /** Stops delivery and deletes the server-side subscription. */
  close(): Promise<void>;
}

export interface PostMessage {
  readonly body: unknown;
  readonly ttl?: number;
  readonly delay?: number;
}

export interface ClientEvents {
  /** Connected, authenticated and every subscription reattached. */
  open: { readonly reconnect: boolean };
  close: { readonly code: number; readonly reason: string };
  reconnecting: { readonly attempt: number; readonly delayMs: number };
  gap: GapInfo;
  error: Error;
}

export interface Client {
  subscribe<T = unknown>(queue: string, onMessage: (message: Message<T>) => void, options?: SubscribeOptions): Subscription;
  /** Posts over the socket (waits for it to be open); resolves to the message ids. */
  post(queue: string, messages: readonly PostMessage[]): Promise<string[]>;
  /** Any Zaqar WebSocket action; resolves to the answer's body, rejects with `ZaqarError`. */
  request(action: string, body?: Record<string, unknown>): Promise<unknown>;
  on<E extends keyof ClientEvents>(event: E, listener: Listener<ClientEvents[E]>): () => void;
  readonly state: 'connecting' | 'open' | 'closed';
  readonly clientId: string;
  close(): Promise<void>;
}

interface Pending {
  readonly action: string;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (err: Error) => void;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

interface SubState {
  readonly queue: string;
  readonly from: string;
  readonly onMessage: (message: Message<unknown>) => void;
  readonly options: SubscribeOptions;
  marker: string | null;
  subscriptionId: string | null;
  closed: boolean;
  attaches: number;
}

const OPEN = 1;

export function createClient(options: ClientOptions): Client {
  return new ZaqarClient(options);
}

class ZaqarClient implements Client {
  readonly clientId: string;
  #state: 'connecting' | 'open' | 'closed' = 'connecting';
  readonly #opts: ClientOptions;
  readonly #events = new Emitter<ClientEvents>();
  readonly #subs = new Map<string, SubState>();
  readonly #Socket: SocketConstructor;
  #socket: SocketLike | null = null;
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #attempt = 0;
  #connectedOnce = false;
  #openWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(opts: ClientOptions) {
    this.#opts = opts;
    this.clientId = opts.clientId ?? randomId();
    const Socket = opts.WebSocket ?? (globalThis as unknown as { WebSocket?: SocketConstructor }).WebSocket;
    if (Socket === undefined) throw new Error('No WebSocket: pass the `WebSocket` option (e.g. `import WebSocket from "ws"`).');
    this.#Socket = Socket;
    this.#connect();
  }

  get state(): 'connecting' | 'open' | 'closed' {
    return this.#state;
  }

  on<E extends keyof ClientEvents>(event: E, listener: Listener<ClientEvents[E]>): () => void {
    return this.#events.on(event, listener);
  }

  subscribe<T = unknown>(queue: string, onMessage: (message: Message<T>) => void, options: SubscribeOptions = {}): Subscription {
    if (this.#state === 'closed') throw new Error('The client is closed.');
    if (this.#subs.has(queue)) throw new Error(`Already subscribed to ${queue}: one subscription per queue and client.`);
    const from = options.from ?? 'next';
    const sub: SubState = {
      queue,
      from,
      onMessage: onMessage as (message: Message<unknown>) => void,
      options,
      marker: from === 'next' || from === 'first' ? null : from,
      subscriptionId: null,
      closed: false,
      attaches: 0,
    };
    this.#subs.set(queue, sub);
    if (this.#state === 'open') {
      // A drop or timeout meanwhile is the reconnect's business: it reattaches every subscription.
      this.#attach(sub, this.#socket).catch((err: unknown) => {
        if (!(err instanceof ConnectionClosedError) && !(err instanceof TimeoutError) && !(err instanceof ZaqarError)) this.#report(sub, asError(err));
      });
    }
    return {
      queue,
      get marker() {
        return sub.marker;
      },
      close: () => this.#unsubscribe(sub),
    };
  }

  async post(queue: string, messages: readonly PostMessage[]): Promise<string[]> {
    await this.#whenOpen();
    const answer = await this.#send('message_post', { queue_name: queue, messages });
    if (answer.status !== 201) throw new ZaqarError('message_post', answer.status, answer.body);
    return ((answer.body as { message_ids?: string[] }).message_ids ?? []).slice();
  }

  async request(action: string, body: Record<string, unknown> = {}): Promise<unknown> {
    await this.#whenOpen();
    const answer = await this.#send(action, body);
    if (answer.status >= 300) throw new ZaqarError(action, answer.status, answer.body);
    return answer.body;
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#timer);
    clearInterval(this.#pingTimer);
    for (const w of this.#openWaiters.splice(0)) w.reject(new ConnectionClosedError('The client was closed.'));
    const socket = this.#socket;
    this.#socket = null;
    this.#failPending(new ConnectionClosedError('The client was closed.'));
    if (socket !== null) {
      detach(socket);
      socket.close(1000, 'client closed');
    }
  }

  // -- connection ---------------------------------------------------------------------------

  #connect(): void {
    if (this.#state === 'closed') return;
    this.#state = 'connecting';
    let socket: SocketLike;
    try {
      socket = new this.#Socket(this.#opts.url);
    } catch (err) {
      this.#events.emit('error', asError(err));
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => void this.#onOpen(socket);
    socket.onmessage = (event) => this.#onFrame(socket, event.data);
    socket.onerror = () => undefined; // a close follows; it carries what matters
    socket.onclose = (event) => this.#onClose(socket, event.code, event.reason);
  }

  async #onOpen(socket: SocketLike): Promise<void> {
    try {
      const token = this.#opts.getToken !== undefined ? await this.#opts.getToken() : this.#opts.token;
      if (socket !== this.#socket) return;
      if (token !== undefined && token !== '') {
        const auth = await this.#send('authenticate', {}, { 'X-Auth-Token': token }, socket);
        if (auth.status !== 200) throw new ZaqarError('authenticate', auth.status, auth.body);
      }
      for (const sub of this.#subs.values()) await this.#attach(sub, socket);
    } catch (err) {
      if (socket !== this.#socket) return;
      this.#events.emit('error', asError(err));
      socket.close(4000, 'handshake failed');
      return;
    }
    if (socket !== this.#socket || this.#state === 'closed') return;
    this.#state = 'open';
    this.#attempt = 0;
    const reconnect = this.#connectedOnce;
    this.#connectedOnce = true;
    this.#startPing(socket);
    for (const w of this.#openWaiters.splice(0)) w.resolve();
    this.#events.emit('open', { reconnect });
  }

  #onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    detach(socket);
    this.#socket = null;
    clearInterval(this.#pingTimer);
    this.#failPending(new ConnectionClosedError(`The connection closed (${code}${reason === '' ? '' : ` ${reason}`}).`));
    for (const sub of this.#subs.values()) sub.subscriptionId = null;
    if (this.#state === 'closed') return;
    this.#events.emit('close', { code, reason });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const policy = this.#opts.reconnect;
    if (policy === false) {
      void this.close();
      return;
    }
    this.#state = 'connecting';
    const attempt = ++this.#attempt;
    if (policy?.maxAttempts !== undefined && attempt > policy.maxAttempts) {
      this.#events.emit('error', new Error(`Gave up after ${policy.maxAttempts} reconnect attempts.`));
      void this.close();
      return;
    }
    const delayMs = backoffDelay(attempt, policy ?? {});
    this.#events.emit('reconnecting', { attempt, delayMs });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  #startPing(socket: SocketLike): void {
    const every = this.#opts.pingIntervalMs ?? 25_000;
    clearInterval(this.#pingTimer);
    if (every <= 0) return;
    this.#pingTimer = setInterval(() => {
      // A timeout replaces the socket (see #send); other failures are the close's business.
      if (socket === this.#socket) this.#send('ping_node', {}, {}, socket).catch(() => undefined);
    }, every);
  }

  #whenOpen(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(new ConnectionClosedError('The client is closed.'));
    return new Promise((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
  }

  // -- requests -----------------------------------------------------------------------------

  /**
   * Sends one request on `socket` and resolves with its answer. Zaqar answers in request order,
   * so answers are matched to requests first in, first out; a request unanswered within the
   * timeout means the stream can no longer be trusted: the socket is replaced.
   */
  #send(action: string, body: Record<string, unknown>, extraHeaders: Record<string, string> = {}, socket = this.#socket): Promise<Answer> {
    if (socket === null || socket.readyState !== OPEN) return Promise.reject(new ConnectionClosedError('Not connected.'));
    const frame = { action, headers: { 'Client-ID': this.clientId, 'X-Project-ID': this.#opts.projectId, ...extraHeaders }, body };
    return new Promise<Answer>((resolve, reject) => {
      const timeoutMs = this.#opts.requestTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        if (socket !== this.#socket) return;
        reject(new TimeoutError(`${action}: no answer within ${timeoutMs} ms`));
        socket.close(4000, 'request timeout');
        this.#onClose(socket, 4000, 'request timeout');
      }, timeoutMs);
      this.#pending.push({
        action,
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.send(JSON.stringify(frame));
    });
  }

  #failPending(err: Error): void {
    for (const p of this.#pending.splice(0)) p.reject(err);
  }

  #onFrame(socket: SocketLike, data: unknown): void {
    if (socket !== this.#socket) return;
    let frame: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(typeof data === 'string' ? data : String(data));
      if (typeof parsed !== 'object' || parsed === null) return;
      frame = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    if (frame['Message_Type'] === 'Notification') {
      this.#onNotification(frame);
      return;
    }
    if ('request' in frame && 'headers' in frame) {
      const pending = this.#pending.shift();
      const status = (frame['headers'] as { status?: unknown } | null)?.status;
      pending?.resolve({ status: typeof status === 'number' ? status : 0, body: frame['body'] });
    }
  }

  // -- subscriptions ------------------------------------------------------------------------

  async #attach(sub: SubState, socket: SocketLike | null): Promise<void> {
    if (sub.closed) return;
    const marker = sub.marker ?? sub.from;
    const ttl = this.#opts.subscriptionTtl ?? 7 * 24 * 3600;
    const answer = await this.#send('subscription_create', { queue_name: sub.queue, ttl, marker }, {}, socket);
    if (answer.status !== 201) {
      const err = new ZaqarError('subscription_create', answer.status, answer.body);
      this.#report(sub, err);
      // Refused for good (403, a bad marker…): this subscription is dropped, the socket kept.
      if (answer.status < 500) {
        sub.closed = true;
        this.#subs.delete(sub.queue);
        return;
      }
      throw err;
    }
    const body = answer.body as { subscription_id?: string; replayed?: number; gap?: boolean; marker?: string | null };
    sub.subscriptionId = body.subscription_id ?? null;
    const replayed = typeof body.replayed === 'number' ? body.replayed : 0;
    // Nothing to replay: the newest marker is where a later reattach resumes, so what is posted
    // between now and a drop is not lost even if no message reaches this subscription first.
    if (replayed === 0 && typeof body.marker === 'string' && (sub.marker === null || isAfter(body.marker, sub.marker))) {
      sub.marker = body.marker;
    }
    const reattach = sub.attaches++ > 0;
    try {
      sub.options.onAttach?.({ queue: sub.queue, replayed, gap: body.gap === true, reattach });
    } catch (err) {
      this.#report(sub, asError(err));
    }
    if (body.gap === true) {
      const info: GapInfo = { queue: sub.queue, replayed, marker: marker === 'next' || marker === 'first' ? null : marker };
      try {
        sub.options.onGap?.(info);
      } catch (err) {
        this.#report(sub, asError(err));
      }
      this.#events.emit('gap', info);
    }
  }

  #onNotification(frame: Record<string, unknown>): void {
    const queue = frame['queue_name'];
    const sub = typeof queue === 'string' ? this.#subs.get(queue) : undefined;
    if (sub === undefined || sub.closed) return;
    const marker = frame['marker'];
    if (typeof marker === 'string') {
      // Once each: what a reattach replays up to the last delivered marker is skipped.
      if (sub.marker !== null && !isAfter(marker, sub.marker)) return;
      sub.marker = marker;
    }
    const message: Message<unknown> = {
      queue: sub.queue,
      id: typeof frame['message_id'] === 'string' ? frame['message_id'] : '',
      body: frame['body'],
      ttl: typeof frame['ttl'] === 'number' ? frame['ttl'] : 0,
      marker: typeof marker === 'string' ? marker : '',
    };
    try {
      sub.onMessage(message);
    } catch (err) {
      this.#report(sub, asError(err));
    }
  }

  async #unsubscribe(sub: SubState): Promise<void> {
    if (sub.closed) return;
    sub.closed = true;
    if (this.#subs.get(sub.queue) === sub) this.#subs.delete(sub.queue);
    const id = sub.subscriptionId;
    if (id === null || this.#state !== 'open') return;
    await this.#send('subscription_delete', { queue_name: sub.queue, subscription_id: id }).catch(() => undefined);
  }

  #report(sub: SubState, err: Error): void {
    if (sub.options.onError !== undefined) sub.options.onError(err);
    this.#events.emit('error', err);
  }
}

function detach(socket: SocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  // Not null: `ws` throws an 'error' event nobody listens to (e.g. closed while connecting).
  socket.onerror = () => undefined;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
