/**
 * One queue's subscriptions in the catalogue fold, indexed so that creating one costs the same
 * with 10 or 10,000 beside it (issue 11 §4: a pod with 10,000 subscribed sockets on one queue).
 * The old way scanned every subscription of the queue to purge the expired ones and to look for
 * the same subscriber, which made subscribing N sockets cost O(N²).
 *
 * - `bySubscriber` points each subscriber URL to the subscription set last with it. No two live
 *   subscriptions share one (creation answers with the existing one, update refuses with 409),
 *   so every live subscription is reachable through it.
 * - The expiry heap orders (expiry, id) pairs. A pair goes stale when its subscription was
 *   deleted or got a new lifetime, and is dropped when it reaches the top. It is rebuilt when
 *   stale pairs outnumber live ones.
 */
import type { SubscriptionRecord } from './events.js';

/** When a subscription stops being alive, ms since the epoch. */
export function expiryOf(s: SubscriptionRecord): number {
  return s.createdAt + s.ttl * 1000;
}

export function alive(s: SubscriptionRecord, now: number): boolean {
  return expiryOf(s) > now;
}

interface Expiry {
  readonly at: number;
  readonly id: string;
}

export class QueueSubscriptions {
  readonly #byId = new Map<string, SubscriptionRecord>();
  readonly #bySubscriber = new Map<string, string>();
  #heap: Expiry[] = [];
  #webhooks = 0;

  constructor(
    readonly project: string,
    readonly queue: string,
  ) {}

  /** Every subscription held, expired ones included until purged; insertion order. */
  get byId(): ReadonlyMap<string, SubscriptionRecord> {
    return this.#byId;
  }

  /** Held subscriptions that are webhooks (not a WebSocket's own), expired ones included. */
  get webhookCount(): number {
    return this.#webhooks;
  }

  get(id: string): SubscriptionRecord | undefined {
    return this.#byId.get(id);
  }

  /** The subscription last set with this subscriber (alive or not), if still held. */
  withSubscriber(subscriber: string): SubscriptionRecord | undefined {
    const id = this.#bySubscriber.get(subscriber);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  /** Adds or replaces the subscription with this id. */
  set(s: SubscriptionRecord): void {
    const previous = this.#byId.get(s.id);
    if (previous !== undefined && previous.subscriber !== s.subscriber) this.#unindex(previous);
    if (previous !== undefined && previous.websocket !== true) this.#webhooks -= 1;
    if (s.websocket !== true) this.#webhooks += 1;
    this.#byId.set(s.id, s);
    this.#bySubscriber.set(s.subscriber, s.id);
    if (previous === undefined || expiryOf(previous) !== expiryOf(s)) this.#push({ at: expiryOf(s), id: s.id });
  }

  delete(id: string): void {
    const s = this.#byId.get(id);
    if (s === undefined) return;
    this.#byId.delete(id);
    if (s.websocket !== true) this.#webhooks -= 1;
    this.#unindex(s);
  }

  /** Deletes every subscription no longer alive at `now`. */
  purgeExpired(now: number): void {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || top.at > now) return;
      this.#pop();
      const s = this.#byId.get(top.id);
      if (s !== undefined && expiryOf(s) === top.at) this.delete(top.id);
    }
  }

  #unindex(s: SubscriptionRecord): void {
    if (this.#bySubscriber.get(s.subscriber) === s.id) this.#bySubscriber.delete(s.subscriber);
  }

  #push(e: Expiry): void {
    const h = this.#heap;
    if (h.length > 2 * this.#byId.size + 64) {
      this.#heap = [...this.#byId.values()].map((s) => ({ at: expiryOf(s), id: s.id }));
      this.#heap.sort((a, b) => a.at - b.at); // a sorted array is a heap; it holds `e`'s too
      return;
    }
    this.#siftUp(h.push(e) - 1);
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && (h[l]?.at ?? 0) < (h[m]?.at ?? 0)) m = l;
      if (r < h.length && (h[r]?.at ?? 0) < (h[m]?.at ?? 0)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #siftUp(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p]?.at ?? 0) <= (h[i]?.at ?? 0)) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #swap(i: number, j: number): void {
    const h = this.#heap;
    const a = h[i];
    const b = h[j];
    if (a === undefined || b === undefined) return;
    h[i] = b;
    h[j] = a;
  }
}
