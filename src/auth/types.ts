/**
 * What the transports need from an authentication strategy: a token in, the caller's
 * identity (project, roles, expiry) out. Both transports apply the same rules to it.
 */

/** Who a validated token speaks for. */
export interface Identity {
  readonly project: string;
  readonly roles: readonly string[];
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

export interface Authenticator {
  readonly strategy: 'keystone' | 'jwt';
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
