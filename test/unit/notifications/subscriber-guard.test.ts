import { describe, expect, it } from 'vitest';
import { parseCidrs, SubscriberGuard } from '../../../src/notifications/subscriber-guard.js';

const REFUSED = [
  '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
  '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1',
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe',
];
const ALLOWED = ['8.8.8.8', '93.184.216.34', '172.32.0.1', '192.0.2.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'];

describe('the webhook SSRF guard', () => {
  it('refuses loopback, link-local, private, CGNAT, multicast and reserved addresses, also IPv4-mapped', () => {
    const g = new SubscriberGuard();
    expect(REFUSED.filter((a) => g.allows(a))).toEqual([]);
    expect(ALLOWED.filter((a) => !g.allows(a))).toEqual([]);
    expect(g.allows('not an address')).toBe(false);
  });

  it('allows what WEBHOOK_ALLOWED_CIDRS lists', () => {
    const g = new SubscriberGuard('10.0.0.0/8, 127.0.0.1 ,fd00::/8');
    expect(['10.1.2.3', '127.0.0.1', '::ffff:10.9.9.9', 'fd12::1'].filter((a) => !g.allows(a))).toEqual([]);
    expect(g.allows('127.0.0.2')).toBe(false);
    expect(() => parseCidrs('10.0.0.0/33')).toThrow(/bad prefix/);
    expect(() => parseCidrs('example.com')).toThrow(/not an address/);
  });

  it('checks every address a host resolves to; other schemes and unresolvable hosts pass', async () => {
    const dns: Record<string, string[]> = { 'hooks.example': ['93.184.216.34'], 'rebind.example': ['93.184.216.34', '127.0.0.1'] };
    const g = new SubscriberGuard(undefined, async (host) => {
      const list = dns[host];
      if (list === undefined) throw new Error('ENOTFOUND');
      return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    });
    expect(await g.refusal('http://hooks.example/x')).toBeNull();
    expect(await g.refusal('https://rebind.example/x')).toMatch(/127\.0\.0\.1 is loopback, link-local or private/);
    expect(await g.refusal('http://[::1]:8080/x')).toMatch(/::1/);
    expect(await g.refusal('trust+http://127.0.0.1/x')).toMatch(/127\.0\.0\.1/);
    expect(await g.refusal('mailto:ops@example.com')).toBeNull();
    expect(await g.refusal('http://nowhere.example/x')).toBeNull();
  });
});
