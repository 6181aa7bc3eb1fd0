/**
 * What the transports need from an authentication strategy: a token in, the caller's
 * identity (project, roles, expiry) out. Both transports apply the same rules to it.
 */

/** Who a validated token speaks for. */
export interface Identity {
  readonly project: string;
  readonly roles: readonly string[];
  /** The token's user (Keystone); what a trust is created for. */
  readonly userId?: string;
  /** Epoch ms when the token expires; null when it carries no expiry. */
  readonly expiresAt: number | null;
}

/** `invalid`: the token is refused (401); `unavailable`: the verifier could not be asked (503). */
export type AuthFailureKind = 'invalid' | 'unavailable';

export class AuthError extends Error {
  readonly kind: AuthFailureKind;

  constructor(kind: AuthFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
    this.kind = kind;
  }
}

export function isAuthError(e: unknown): e is AuthError {
  return e instanceof AuthError;
}

/** A request's own credentials: the token it came with and what it was validated as. */
export interface Caller {
  readonly token: string;
  readonly identity: Identity;
}

/**
 * Keystone trusts for `trust+http(s)` subscribers (reference §3.4.3): the caller delegates its
 * roles on its project to this service's own user, and each delivery carries a token scoped
 * to that trust, so the subscriber sees a request made on the caller's behalf.
 */
export interface Trusts {
  /**
   * Creates a trust from the caller's user to the service user, for the caller's project and
   * roles, with impersonation, expiring at `expiresAt` (epoch ms) or never (null); resolves with
   * its id. Rejects with an {@link AuthError}: `invalid` when Keystone refuses it, `unavailable`
   * when Keystone cannot be asked.
   */
  create(caller: Caller, expiresAt: number | null): Promise<string>;
  /** A token scoped to the trust, reused until shortly before it expires. Rejects like `create`. */
  token(trustId: string): Promise<string>;
}

export interface Authenticator {
  readonly strategy: 'keystone' | 'jwt';
  /** Present when this strategy can delegate (Keystone). */
  readonly trusts?: Trusts;
  /** `WWW-Authenticate` of a REST 401. */
  readonly wwwAuthenticate: string;
  /** Resolves the token's identity; rejects with an {@link AuthError}. Never logs the token. */
  verify(token: string): Promise<Identity>;
  /** The identity of a token validated recently (no I/O), or undefined: then call `verify`. */
  cached?(token: string): Identity | undefined;
}

/** Whether the identity holds the admin role (case-insensitive, as oslo.policy's `role:admin`). */
export function isAdmin(identity: Identity): boolean {
  return identity.roles.some((r) => r.toLowerCase() === 'admin');
}
