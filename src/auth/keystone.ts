/**
 * Keystone token validation as keystonemiddleware does it: the bridge holds its own service
 * token (password auth, project scope) and asks `GET /v3/auth/tokens` with `X-Subject-Token`
 * for each user token; answers are cached until the earlier of the token's `expires_at` and
 * the cache TTL, so a revoked token stops working within that TTL.
 *
 * It also keeps Zaqar's trusts (`trusts`): the service user is the trustee, as Zaqar's
 * `[trustee]` user is.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AuthError, type Authenticator, type Caller, type Identity, type Trusts } from './types.js';

export interface KeystoneOptions {
  /** v3 endpoint, e.g. `http://keystone:5000/v3`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly userDomainName: string;
  readonly projectDomainName: string;
  readonly cacheTtlMs: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Clock, epoch ms (tests). */
  readonly now?: () => number;
}

/** The service token is renewed this long before it expires. */
const SERVICE_TOKEN_MARGIN_MS = 60_000;
/** Cached validations kept at most; the expired ones are dropped first when full. */
const MAX_CACHED = 10_000;

interface ServiceToken {
  readonly token: string;
  /** Epoch ms after which a new one is obtained (before it expires). */
  readonly renewAt: number;
  /** The service user (the trustee of every trust). */
  readonly userId: string | undefined;
}

interface TokenBody {
  readonly token?: {
    readonly expires_at?: string;
    readonly user?: { readonly id?: string };
    readonly project?: { readonly id?: string };
    readonly roles?: readonly { readonly name?: string }[];
  };
}

/** Trust-scoped tokens kept at most (one per trust in use). */
const MAX_TRUST_TOKENS = 10_000;

export class KeystoneAuthenticator implements Authenticator {
  readonly strategy = 'keystone';
  readonly wwwAuthenticate: string;
  readonly #o: KeystoneOptions;
  readonly #base: string;
  readonly #now: () => number;
  readonly #cache = new Map<string, { readonly identity: Identity; readonly until: number }>();
  #service: Promise<ServiceToken> | null = null;
  readonly #trustTokens = new Map<string, Promise<ServiceToken>>();
  readonly trusts: Trusts = {
    create: (caller, expiresAt) => this.#createTrust(caller, expiresAt),
    token: (trustId) => this.#trustToken(trustId),
  };

  constructor(options: KeystoneOptions) {
    this.#o = options;
    this.#base = options.url.replace(/\/+$/, '');
    this.#now = options.now ?? Date.now;
    // keystonemiddleware announces the unversioned endpoint.
    this.wwwAuthenticate = `Keystone uri="${this.#base.replace(/\/v3$/, '')}"`;
  }

  cached(token: string): Identity | undefined {
    const hit = this.#cache.get(cacheKey(token));
    return hit !== undefined && hit.until > this.#now() ? hit.identity : undefined;
  }

  async verify(token: string): Promise<Identity> {
    const key = cacheKey(token);
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.until > now) return hit.identity;
    this.#cache.delete(key);
    const identity = await this.#validate(token, true);
    const until = Math.min(identity.expiresAt ?? Number.POSITIVE_INFINITY, now + this.#o.cacheTtlMs);
    this.#remember(key, identity, until);
    return identity;
  }

  #remember(key: string, identity: Identity, until: number): void {
    if (this.#cache.size >= MAX_CACHED) {
      const now = this.#now();
      for (const [k, v] of this.#cache) if (v.until <= now) this.#cache.delete(k);
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
    }
    this.#cache.set(key, { identity, until });
  }

  async #validate(token: string, retryOn401: boolean): Promise<Identity> {
    const service = await this.#serviceToken();
    const res = await this.#fetch('/auth/tokens', {
      method: 'GET',
      headers: { 'x-auth-token': service.token, 'x-subject-token': token, accept: 'application/json' },
    });
    if (res.status === 401 && retryOn401) {
      // Our own token was refused (revoked, or Keystone's keys rotated): authenticate again.
      this.#service = null;
      return this.#validate(token, false);
    }
    if (res.status === 404 || res.status === 401 || res.status === 403) throw new AuthError('invalid', 'token refused by Keystone');
    if (res.status !== 200) throw new AuthError('unavailable', `Keystone answered ${res.status} to a token validation`);
    return identityOf((await res.json()) as TokenBody);
  }

  #serviceToken(): Promise<ServiceToken> {
    const current = this.#service;
    if (current !== null) {
      return current.then((t) => (t.renewAt > this.#now() ? t : this.#renewService()));
    }
    return this.#renewService();
  }

  #renewService(): Promise<ServiceToken> {
    const p = this.#issueServiceToken();
    this.#service = p;
    // A failed attempt is not kept: the next request tries again.
    p.catch(() => {
      if (this.#service === p) this.#service = null;
    });
    return p;
  }

  async #issueServiceToken(): Promise<ServiceToken> {
    const o = this.#o;
    const issued = await this.#passwordToken({ project: { name: o.projectName, domain: { name: o.projectDomainName } } });
    if (!issued.ok) {
      o.logger.error({ event: 'keystone_service_auth_failed', status: issued.status }, 'keystone: the service credentials were refused');
      throw new AuthError('unavailable', `Keystone refused the service credentials (${issued.status})`);
    }
    o.logger.info({ event: 'keystone_service_token' }, 'keystone: service token obtained');
    return issued.token;
  }

  /** The service user's password authentication with `scope`: its token, or Keystone's status. */
  async #passwordToken(scope: Record<string, unknown>): Promise<{ readonly ok: true; readonly token: ServiceToken } | { readonly ok: false; readonly status: number }> {
    const o = this.#o;
    const res = await this.#fetch('/auth/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: o.username, domain: { name: o.userDomainName }, password: o.password } },
          },
          scope,
        },
      }),
    });
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || token === null) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, status: res.status === 201 ? 502 : res.status };
    }
    const body = (await res.json()) as TokenBody;
    const now = this.#now();
    const parsed = Date.parse(body.token?.expires_at ?? '');
    const expiresAt = Number.isNaN(parsed) ? now + SERVICE_TOKEN_MARGIN_MS : parsed;
    // Renewed a minute before expiry, or half-way through a token shorter than two minutes.
    return { ok: true, token: { token, renewAt: expiresAt - Math.min(SERVICE_TOKEN_MARGIN_MS, (expiresAt - now) / 2), userId: body.token?.user?.id } };
  }

  /**
   * `POST /v3/OS-TRUST/trusts` with the caller's own token (Keystone lets only the trustor
   * create a trust), as Zaqar's `create_trust_id` does: impersonation, the caller's roles.
   */
  async #createTrust(caller: Caller, expiresAt: number | null): Promise<string> {
    const trustor = caller.identity.userId;
    if (trustor === undefined) throw new AuthError('invalid', 'the token names no user to delegate from');
    const trustee = (await this.#serviceToken()).userId;
    if (trustee === undefined) throw new AuthError('unavailable', 'Keystone did not name the service user');
    const res = await this.#fetch('/OS-TRUST/trusts', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-auth-token': caller.token },
      body: JSON.stringify({
        trust: {
          trustor_user_id: trustor,
          trustee_user_id: trustee,
          project_id: caller.identity.project,
          impersonation: true,
          roles: caller.identity.roles.map((name) => ({ name })),
          expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
        },
      }),
    });
    if (res.status === 201) {
      const id = ((await res.json()) as { trust?: { id?: unknown } }).trust?.id;
      if (typeof id === 'string' && id !== '') return id;
      throw new AuthError('unavailable', 'Keystone created a trust without an id');
    }
    const detail = await res.text().catch(() => '');
    if (res.status >= 400 && res.status < 500) throw new AuthError('invalid', `Keystone refused the trust (${res.status}): ${errorTitle(detail)}`);
    throw new AuthError('unavailable', `Keystone answered ${res.status} to a trust creation`);
  }

  /** A trust-scoped token of the service user, shared by the deliveries until it is renewed. */
  #trustToken(trustId: string): Promise<string> {
    const current = this.#trustTokens.get(trustId);
    const fresh = current?.then((t) => (t.renewAt > this.#now() ? t : this.#renewTrustToken(trustId, current)));
    return (fresh ?? this.#renewTrustToken(trustId, undefined)).then((t) => t.token);
  }

  #renewTrustToken(trustId: string, replaced: Promise<ServiceToken> | undefined): Promise<ServiceToken> {
    // Another caller may have renewed it while this one waited.
    const latest = this.#trustTokens.get(trustId);
    if (latest !== undefined && latest !== replaced) return latest;
    if (this.#trustTokens.size >= MAX_TRUST_TOKENS) this.#trustTokens.clear();
    const p = this.#passwordToken({ 'OS-TRUST:trust': { id: trustId } }).then((issued) => {
      if (issued.ok) return issued.token;
      if (issued.status >= 400 && issued.status < 500) throw new AuthError('invalid', `Keystone refused a token for the trust (${issued.status})`);
      throw new AuthError('unavailable', `Keystone answered ${issued.status} to a trust token request`);
    });
    this.#trustTokens.set(trustId, p);
    p.catch(() => {
      if (this.#trustTokens.get(trustId) === p) this.#trustTokens.delete(trustId);
    });
    return p;
  }

  async #fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.#base + path, { ...init, signal: AbortSignal.timeout(this.#o.timeoutMs) });
    } catch (err) {
      throw new AuthError('unavailable', 'Keystone is unreachable', { cause: err });
    }
  }
}

/** Tokens are kept in memory only as hashes. */
function cacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function identityOf(body: TokenBody): Identity {
  const t = body.token;
  const project = t?.project?.id;
  // An unscoped or domain-scoped token has no project: it cannot reach any queue.
  if (project === undefined || project === '') throw new AuthError('invalid', 'token is not scoped to a project');
  const roles = (t?.roles ?? []).map((r) => r.name).filter((n): n is string => typeof n === 'string');
  const expiresAt = Date.parse(t?.expires_at ?? '');
  const userId = t?.user?.id;
  return { project, roles, expiresAt: Number.isNaN(expiresAt) ? null : expiresAt, ...(typeof userId === 'string' && userId !== '' ? { userId } : {}) };
}

/** Keystone's error title (`{"error": {"message": …}}`), or the first 200 characters of the answer. */
function errorTitle(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
