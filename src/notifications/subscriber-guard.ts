/**
 * The webhook SSRF guard (issue 8): a subscriber URL may not reach loopback, link-local,
 * private or otherwise internal addresses — the bridge would POST on a tenant's behalf into the
 * operator's own network (metadata services, the broker's management API, Keystone) — unless
 * the operator allows those ranges (`WEBHOOK_ALLOWED_CIDRS`).
 *
 * Checked twice: when a subscription is created or updated (its host is resolved; any refused
 * address refuses it), and at every delivery, where the address the connection is made to is
 * the one that was checked (the `lookup` below), so a DNS answer that changes after the check
 * cannot steer a delivery inward.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Ranges no webhook may reach unless allowed: RFC 6890 special-purpose and internal space. */
const REFUSED: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata services
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

/** The IPv4 address inside an IPv4-mapped or -compatible IPv6 address, or null. */
function embeddedIpv4(address: string): string | null {
  const m = /^::(?:ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (m?.[1] !== undefined) return m[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] === undefined || hex[2] === undefined) return null;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Parses `WEBHOOK_ALLOWED_CIDRS`: comma-separated `address/prefix` (or bare addresses). Throws on a bad entry. */
export function parseCidrs(text: string | undefined): BlockList {
  const list = new BlockList();
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address = '', prefixText] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new TypeError(`not an address: ${JSON.stringify(entry)}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const prefix = prefixText === undefined ? (family === 4 ? 32 : 128) : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new TypeError(`bad prefix: ${JSON.stringify(entry)}`);
    list.addSubnet(address, prefix, type);
  }
  return list;
}

export class SubscriberGuard {
  readonly #refused = new BlockList();
  readonly #allowed: BlockList;
  readonly #resolve: (host: string) => Promise<readonly LookupAddress[]>;

  /**
   * @param allowedCidrs `WEBHOOK_ALLOWED_CIDRS` (comma-separated CIDRs allowed despite the rules)
   * @param resolve DNS resolution (every address of a host); default `dns.lookup` with `all`
   */
  constructor(allowedCidrs?: string, resolve?: (host: string) => Promise<readonly LookupAddress[]>) {
    for (const [address, prefix, type] of REFUSED) this.#refused.addSubnet(address, prefix, type);
    this.#allowed = parseCidrs(allowedCidrs);
    this.#resolve =
      resolve ??
      ((host) =>
        new Promise((ok, fail) => {
          dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err === null ? ok(addresses) : fail(err)));
        }));
  }

  /** Whether a webhook may be delivered to `address` (an IP literal). */
  allows(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const v4 = family === 6 ? embeddedIpv4(address) : address;
    const [checked, type] = v4 !== null ? [v4, 'ipv4' as const] : [address, 'ipv6' as const];
    if (this.#allowed.check(checked, type)) return true;
    return !this.#refused.check(checked, type);
  }

  /**
   * Why a webhook to `uri` is refused, or null. Only http(s) (and trust+http(s)) subscribers
   * are delivered to; other schemes pass, and so does a host that does not resolve (yet).
   */
  async refusal(uri: string): Promise<string | null> {
    let url: URL;
    try {
      url = new URL(uri.replace(/^trust\+/i, ''));
    } catch {
      return null; // the scheme rules answer malformed URIs
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    let addresses: readonly string[];
    if (isIP(host) !== 0) addresses = [host];
    else {
      try {
        addresses = (await this.#resolve(host)).map((a) => a.address);
      } catch {
        // Not resolvable now: nothing can be reached either. Zaqar accepts such subscribers
        // (the host may come up later); the check before each delivery decides then.
        return null;
      }
    }
    const bad = addresses.find((a) => !this.allows(a));
    if (bad !== undefined) {
      return `The subscriber's address ${bad} is loopback, link-local or private; webhooks may not be delivered there (an operator can allow it with WEBHOOK_ALLOWED_CIDRS).`;
    }
    return null;
  }

  /**
   * A `lookup` for http(s).request: resolves, refuses the connection unless every address is
   * allowed, and connects to the first checked one (pinned: no second resolution).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.#resolve(hostname).then(
      (addresses) => {
        const bad = addresses.find((a) => !this.allows(a.address));
        const first = addresses[0];
        if (bad !== undefined || first === undefined) {
          callback(new Error(`webhook address ${bad?.address ?? hostname} refused (loopback, link-local or private)`), '', 4);
          return;
        }
        if (options.all === true) callback(null, [first]);
        else callback(null, first.address, first.family);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), '', 4),
    );
  };
}
