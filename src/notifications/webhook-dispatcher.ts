/**
 * Webhook delivery (reference §2.9): the {@link PostedSink} that POSTs every stored message to
 * each of its queue's `http`/`https` subscribers, retrying per the Zaqar retry policy.
 *
 * Ordering: one post's messages reach a subscriber one after the other, in post order (the
 * next is sent once the previous one is delivered or given up, retries included, as Zaqar's
 * task does). Separate posts are delivered independently and may interleave or overtake each
 * other at a subscriber (Zaqar runs each post in its own thread pool task).
 */
import type { Logger } from 'pino';
import type { PostedMessages, PostedSink, SubscriptionView } from '../core/index.js';
import type { SubscriberGuard } from './subscriber-guard.js';
import { redactUrl } from '../observability/redact.js';
import { resolveRetryPolicy, retrySchedule } from './retry-policy.js';
import { notificationJson, requestBody, requestHeaders, webhookTarget, type NotDeliveredReason, type WebhookTarget } from './webhook-request.js';

/** How one delivery (one message to one subscriber) ended. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped';

/** Runs `fn` after `ms`; returns a function cancelling it. Must not keep the process alive. */
export type Scheduler = (fn: () => void, ms: number) => () => void;

export interface WebhookDispatcherOptions {
  readonly logger: Logger;
  /** The HTTP client; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** The SSRF guard, asked again before every attempt (DNS may have changed); none = no check. */
  readonly guard?: Pick<SubscriberGuard, 'refusal'>;
  /** Per POST attempt, ms; default 10000. A timed-out attempt counts as failed and is retried. */
  readonly timeoutMs?: number;
  /**
   * Deliveries (message × subscriber) accepted and not finished, retries included; default
   * 256. Beyond it new deliveries are dropped (warn log, `dropped` outcome): memory stays
   * bounded when subscribers are slow or down.
   */
  readonly maxInFlight?: number;
  /** Timers for the retry delays and the close deadline; default unref'd `setTimeout`. */
  readonly schedule?: Scheduler;
  /** Told of every finished delivery (for the metrics), with how many ended that way. */
  readonly onOutcome?: (outcome: DeliveryOutcome, count: number) => void;
  /**
   * A token scoped to a Keystone trust (`trust+http(s)` subscribers send it as `X-Auth-Token`);
   * absent without Keystone, when such subscribers are not delivered.
   */
  readonly trustToken?: (trustId: string) => Promise<string>;
}

/** One subscriber's share of one post: its messages go out one after the other. */
interface Job {
  readonly subscription: string;
  readonly queue: string;
  /** For logs: the subscriber URL with any password redacted. */
  readonly shown: string;
  readonly url: string;
  readonly headers: Headers;
  /** The trust whose token each attempt carries (`trust+` subscribers). */
  readonly trustId: string | undefined;
  readonly bodies: readonly string[];
  /** Seconds before each retry. */
  readonly schedule: readonly number[];
}

type Attempt = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly status?: number; readonly error?: string };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_IN_FLIGHT = 256;
/** How many subscription ids are remembered for the once-only "not delivered" debug line. */
const SKIPPED_MEMORY = 10_000;

const unrefTimeout: Scheduler = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export class WebhookDispatcher implements PostedSink {
  readonly #log: Logger;
  readonly #fetch: typeof fetch;
  readonly #guard: Pick<SubscriberGuard, 'refusal'> | undefined;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #schedule: Scheduler;
  readonly #onOutcome: (outcome: DeliveryOutcome, count: number) => void;
  readonly #trustToken: ((trustId: string) => Promise<string>) | undefined;
  /** Aborts the POSTs still running when the close deadline passes. */
  readonly #abort = new AbortController();
  readonly #jobs = new Set<Promise<void>>();
  /** Wakes every delivery waiting for a retry (close). */
  readonly #sleepers = new Set<() => void>();
  readonly #skipped = new Set<string>();
  #inFlight = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** @param options see {@link WebhookDispatcherOptions}; defaults: global fetch, 10 s, 256. */
  constructor(options: WebhookDispatcherOptions) {
    this.#log = options.logger;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#guard = options.guard;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.#schedule = options.schedule ?? unrefTimeout;
    this.#onOutcome = options.onOutcome ?? (() => undefined);
    this.#trustToken = options.trustToken;
  }

  /** Deliveries accepted and not finished yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Starts delivering a post's messages to its webhooks; returns at once and never throws. */
  posted(p: PostedMessages): void {
    try {
      this.#accept(p);
    } catch (err) {
      this.#log.error({ event: 'webhook_dispatch_failed', err, queue: p.queue }, 'webhook dispatch failed');
    }
  }

  /**
   * Stops accepting posts, cancels pending retries (those deliveries end as `dropped`), then
   * waits for POSTs in flight until `timeoutMs` (default 3000) has passed, after which they
   * are aborted. Memoized and idempotent; never rejects.
   */
  close(timeoutMs = 3_000): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    for (const wake of [...this.#sleepers]) wake();
    const all = Promise.allSettled([...this.#jobs]).then(() => true);
    let cancel = (): void => undefined;
    const deadline = new Promise<boolean>((resolve) => {
      cancel = this.#schedule(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([all, deadline]);
    cancel();
    if (!drained) {
      this.#log.warn({ event: 'webhook_close_deadline', inFlight: this.#inFlight, timeoutMs }, 'webhook POSTs still running at the close deadline: aborted');
      this.#abort.abort();
      await all;
    }
  }

  #accept(p: PostedMessages): void {
    if (this.#closed) {
      this.#drop(p.queue, p.webhooks.length * p.messages.length, 'closing');
      return;
    }
    let dropped = 0;
    for (const sub of p.webhooks) {
      if (sub.websocket === true) continue;
      const target = webhookTarget(sub, this.#trustToken !== undefined);
      if (typeof target === 'string') {
        this.#notDelivered(sub, target);
        continue;
      }
      const n = Math.min(p.messages.length, Math.max(0, this.#maxInFlight - this.#inFlight));
      dropped += p.messages.length - n;
      if (n === 0) continue;
      const job = this.#job(p, sub, target, n);
      if (job === null) continue;
      this.#inFlight += n;
      this.#track(this.#run(job));
    }
    if (dropped > 0) this.#drop(p.queue, dropped, 'max_in_flight');
  }

  /** The first `n` messages for one subscriber; null (and `failed`) when its headers are not HTTP. */
  #job(p: PostedMessages, sub: SubscriptionView, target: WebhookTarget, n: number): Job | null {
    let headers: Headers;
    try {
      headers = requestHeaders(sub.options, target.url);
    } catch (err) {
      this.#log.warn({ event: 'webhook_failed', subscription: sub.id, subscriber: redactUrl(sub.subscriber), queue: p.queue, err }, 'webhook not sent: invalid post_headers');
      this.#report('failed', n);
      return null;
    }
    return {
      subscription: sub.id,
      queue: p.queue,
      shown: redactUrl(sub.subscriber),
      url: target.request,
      headers,
      trustId: target.trustId,
      bodies: p.messages.slice(0, n).map((m) => requestBody(sub.options, notificationJson(p.queue, m))),
      schedule: retrySchedule(resolveRetryPolicy(sub.options, p.metadata)),
    };
  }

  #track(job: Promise<void>): void {
    this.#jobs.add(job);
    void job.finally(() => this.#jobs.delete(job));
  }

  /** Delivers a job's messages in order; a message given up does not stop the next one. */
  async #run(job: Job): Promise<void> {
    for (const body of job.bodies) {
      let outcome: DeliveryOutcome = 'dropped';
      try {
        outcome = this.#closed ? 'dropped' : await this.#deliver(job, body);
      } catch (err) {
        this.#log.error({ event: 'webhook_dispatch_failed', err, subscription: job.subscription }, 'webhook delivery crashed');
        outcome = 'failed';
      }
      this.#inFlight--;
      this.#report(outcome, 1);
    }
  }

  /** First attempt, then one retry per schedule entry, until one succeeds or close. */
  async #deliver(job: Job, body: string): Promise<DeliveryOutcome> {
    // Refused by the SSRF guard: given up at once (counted as failed, logged as webhook_refused).
    if (await this.#refused(job)) return 'failed';
    let last = await this.#attempt(job, body);
    for (let i = 0; !last.ok && i < job.schedule.length; i++) {
      this.#log.debug({ event: 'webhook_retry', subscription: job.subscription, subscriber: job.shown, retry: i + 1, delayS: job.schedule[i], ...last }, 'webhook POST failed: retrying');
      await this.#sleep((job.schedule[i] ?? 0) * 1000);
      if (this.#closed) return 'dropped';
      if (await this.#refused(job)) return 'failed';
      last = await this.#attempt(job, body);
    }
    if (last.ok) {
      this.#log.debug({ event: 'webhook_delivered', subscription: job.subscription, subscriber: job.shown, status: last.status }, 'webhook delivered');
      return 'delivered';
    }
    this.#log.warn(
      { event: 'webhook_failed', subscription: job.subscription, subscriber: job.shown, queue: job.queue, attempts: job.schedule.length + 1, ...last },
      'webhook delivery given up after its retry policy',
    );
    return 'failed';
  }

  /** The SSRF guard's check at delivery time: the subscriber's host may resolve elsewhere now. */
  async #refused(job: Job): Promise<boolean> {
    const refusal = (await this.#guard?.refusal(job.url)) ?? null;
    if (refusal === null) return false;
    this.#log.warn({ event: 'webhook_refused', subscription: job.subscription, subscriber: job.shown, queue: job.queue, reason: refusal }, 'webhook not sent: address refused');
    return true;
  }

  /**
   * One POST. Statuses 200..499 settle the delivery (Zaqar retries only on 5xx and errors). A
   * trust subscriber's POST carries a token of its trust as `X-Auth-Token` (a `post_headers`
   * one wins, as in Zaqar); no token (Keystone refused or unreachable) fails the attempt.
   */
  async #attempt(job: Job, body: string): Promise<Attempt> {
    let headers = job.headers;
    if (job.trustId !== undefined && this.#trustToken !== undefined && !headers.has('x-auth-token')) {
      try {
        headers = new Headers(headers);
        headers.set('X-Auth-Token', await this.#trustToken(job.trustId));
      } catch (err) {
        return { ok: false, error: `no token for the subscription's trust: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#abort.signal]);
      const res = await this.#fetch(job.url, { method: 'POST', headers, body, signal });
      // Free the connection; the answer's body means nothing to Zaqar.
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 500 ? { ok: true, status: res.status } : { ok: false, status: res.status };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? describe(err) : String(err) };
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleepers.delete(wake);
        cancel();
        resolve();
      };
      const cancel = this.#schedule(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  #drop(queue: string, count: number, reason: 'closing' | 'max_in_flight'): void {
    if (count === 0) return;
    if (reason === 'closing') this.#log.info({ event: 'webhook_dropped', queue, count, reason }, `${count} webhook deliveries dropped: shutting down`);
    else this.#log.warn({ event: 'webhook_dropped', queue, count, reason, maxInFlight: this.#maxInFlight }, `${count} webhook deliveries dropped: too many in flight`);
    this.#report('dropped', count);
  }

  /** `mailto:` subscribers, and trust ones without a trust or without Keystone: logged once per subscription, at debug. */
  #notDelivered(sub: SubscriptionView, reason: NotDeliveredReason): void {
    if (this.#skipped.has(sub.id)) return;
    if (this.#skipped.size >= SKIPPED_MEMORY) this.#skipped.clear();
    this.#skipped.add(sub.id);
    this.#log.debug({ event: 'webhook_not_delivered', subscription: sub.id, subscriber: redactUrl(sub.subscriber), reason }, 'subscriber not delivered by this bridge');
  }

  #report(outcome: DeliveryOutcome, count: number): void {
    try {
      this.#onOutcome(outcome, count);
    } catch {
      // A metrics callback must not break delivery.
    }
  }
}

/** The error's message plus its cause's (undici reports `fetch failed` with the reason in `cause`). */
function describe(err: Error): string {
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.name}: ${err.message}${cause}`;
}
