/** When a subscription gets a Keystone trust at subscribe time, and what a refusal answers. */
import { describe, expect, it } from 'vitest';
import { AuthError, withTrust, type Caller, type Trusts } from '../../../src/auth/index.js';
import { isZaqarError } from '../../../src/core/errors.js';

const caller: Caller = { token: 'tok', identity: { project: 'p', roles: ['member'], expiresAt: null, userId: 'u1' } };

function recording(result: () => Promise<string>): Trusts & { calls: { caller: Caller; expiresAt: number | null }[] } {
  const calls: { caller: Caller; expiresAt: number | null }[] = [];
  return {
    calls,
    create: (c, expiresAt) => {
      calls.push({ caller: c, expiresAt });
      return result();
    },
    token: () => Promise.resolve('t'),
  };
}

describe('withTrust', () => {
  it('creates a trust for a trust+ subscriber, expiring with the subscription, and stores its id', async () => {
    const trusts = recording(() => Promise.resolve('trust-1'));
    const opts = await withTrust({ subscriber: 'trust+https://h/x', ttl: 120, options: { post_data: 'x' } }, trusts, caller, 3600, 1_000_000);
    expect(opts).toEqual({ subscriber: 'trust+https://h/x', ttl: 120, options: { post_data: 'x', trust_id: 'trust-1' } });
    expect(trusts.calls).toEqual([{ caller, expiresAt: 1_000_000 + 120_000 }]);
    await withTrust({ subscriber: 'TRUST+http://h/x' }, trusts, caller, 3600, 0);
    expect(trusts.calls[1]?.expiresAt).toBe(3_600_000);
  });

  it('leaves other subscribers, a given trust_id, unauthenticated callers and strategies without trusts alone', async () => {
    const trusts = recording(() => Promise.resolve('never'));
    for (const [opts, t, c] of [
      [{ subscriber: 'https://h/x' }, trusts, caller],
      [{ subscriber: 'trust+http://h/x', options: { trust_id: 'mine' } }, trusts, caller],
      [{ subscriber: 'trust+http://h/x' }, trusts, null],
      [{ subscriber: 'trust+http://h/x' }, undefined, caller],
      [{ subscriber: 'trust+http://h/x', websocket: true }, trusts, caller],
    ] as const) {
      expect(await withTrust(opts, t, c, 3600)).toBe(opts);
    }
    expect(trusts.calls).toEqual([]);
  });

  it('answers 400 when Keystone refuses the trust and 503 when it cannot be asked', async () => {
    const refused = await withTrust({ subscriber: 'trust+http://h/x' }, recording(() => Promise.reject(new AuthError('invalid', 'Keystone refused the trust (403): nope'))), caller, 3600).catch((e: unknown) => e);
    expect(isZaqarError(refused) && refused.status).toBe(400);
    expect((refused as Error).message).toBe('The trust for this subscriber could not be created: Keystone refused the trust (403): nope.');
    const down = await withTrust({ subscriber: 'trust+http://h/x' }, recording(() => Promise.reject(new AuthError('unavailable', 'Keystone is unreachable'))), caller, 3600).catch((e: unknown) => e);
    expect(isZaqarError(down) && down.status).toBe(503);
  });
});
