/**
 * The catalogue's indexed subscriptions (queue-subscriptions.ts) decide exactly as a plain scan
 * of every subscription of the queue: random creates, updates and deletes at moving times,
 * with few subscriber URLs so that duplicates, conflicts and expiries keep happening. After
 * every event, both must give the same outcome and hold the same live subscriptions (and
 * webhooks, which skip the scan while a queue holds none).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CatalogOutcome } from '../../../src/core/catalog-outcome.js';
import { CatalogState } from '../../../src/core/catalog-state.js';
import type { CatalogEvent, SubscriptionRecord } from '../../../src/core/events.js';

const P = 'p';
const Q = 'q';
const SUBSCRIBERS = ['http://a/', 'http://b/', 'http://c/', 'http://d/'];

const isAlive = (s: SubscriptionRecord, now: number): boolean => s.createdAt + s.ttl * 1000 > now;

/** The decision rules as a scan over every subscription (the definition being checked). */
class ScanModel {
  readonly subs = new Map<string, SubscriptionRecord>();

  apply(e: CatalogEvent): CatalogOutcome {
    if (e.type === 'subscription_create') {
      for (const [id, s] of this.subs) if (!isAlive(s, e.at)) this.subs.delete(id);
      for (const s of this.subs.values()) {
        if (s.subscriber === e.subscription.subscriber) return { type: 'subscription', id: s.id, created: false, confirmed: s.confirmed };
      }
      this.subs.set(e.subscription.id, { ...e.subscription, confirmed: false, createdAt: e.at });
      return { type: 'subscription', id: e.subscription.id, created: true, confirmed: false };
    }
    if (e.type === 'subscription_update') {
      const s = this.subs.get(e.id);
      if (s === undefined || !isAlive(s, e.at)) return { type: 'subscription_not_found' };
      if (e.subscriber !== undefined && e.subscriber !== s.subscriber) {
        for (const o of this.subs.values()) if (o.id !== s.id && o.subscriber === e.subscriber && isAlive(o, e.at)) return { type: 'subscription_conflict' };
      }
      this.subs.set(s.id, { ...s, subscriber: e.subscriber ?? s.subscriber, ttl: e.ttl ?? s.ttl, createdAt: e.ttl === undefined ? s.createdAt : e.at });
      return { type: 'ok' };
    }
    if (e.type === 'subscription_delete') this.subs.delete(e.id);
    return { type: 'ok' };
  }

  live(now: number): SubscriptionRecord[] {
    return [...this.subs.values()].filter((s) => isAlive(s, now)).sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

type Op =
  | { readonly op: 'create'; readonly sub: number; readonly ttl: number; readonly ws: boolean; readonly dt: number }
  | { readonly op: 'update'; readonly target: number; readonly sub: number | null; readonly ttl: number | null; readonly dt: number }
  | { readonly op: 'delete'; readonly target: number; readonly dt: number };

const dt = fc.integer({ min: 0, max: 1500 });
const ttl = fc.integer({ min: 1, max: 4 });
const sub = fc.integer({ min: 0, max: SUBSCRIBERS.length - 1 });
const target = fc.integer({ min: 0, max: 40 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), sub, ttl, ws: fc.boolean(), dt }),
  fc.record({ op: fc.constant('update' as const), target, sub: fc.option(sub), ttl: fc.option(ttl), dt }),
  fc.record({ op: fc.constant('delete' as const), target, dt }),
);

describe('indexed subscriptions', () => {
  it('decide like a scan of every subscription', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const state = new CatalogState();
        const model = new ScanModel();
        const ids: string[] = [];
        let at = 1_000_000;
        ops.forEach((o, i) => {
          at += o.dt;
          const base = { rid: `r${i}`, at, project: P, queue: Q };
          let e: CatalogEvent;
          if (o.op === 'create') {
            const id = `s${String(i).padStart(4, '0')}`;
            ids.push(id);
            e = { ...base, type: 'subscription_create', subscription: { id, subscriber: SUBSCRIBERS[o.sub] ?? '', ttl: o.ttl, options: {}, ...(o.ws ? { websocket: true } : {}) } };
          } else {
            const id = ids[o.target % Math.max(1, ids.length)] ?? 'none';
            e =
              o.op === 'delete'
                ? { ...base, type: 'subscription_delete', id }
                : {
                    ...base,
                    type: 'subscription_update',
                    id,
                    ...(o.sub === null ? {} : { subscriber: SUBSCRIBERS[o.sub] ?? '' }),
                    ...(o.ttl === null ? {} : { ttl: o.ttl }),
                  };
          }
          expect(state.apply(e, i)).toEqual(model.apply(e));
          expect(state.subscriptions(P, Q, at)).toEqual(model.live(at));
          expect(state.webhooks(P, Q, at)).toEqual(model.live(at).filter((s) => s.websocket !== true));
        });
      }),
      { numRuns: 300 },
    );
  });
});
