/**
 * JWT verification with `jose`: a remote JWKS (fetched, cached and refetched for an unknown
 * `kid` by `createRemoteJWKSet`) or one PEM public key; asymmetric algorithms only, so `none`
 * and HMAC-with-the-public-key confusions are refused.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { AuthError, type Authenticator, type Identity } from './types.js';

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface JwtOptions {
  readonly jwksUrl?: string;
  readonly publicKeyFile?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly projectClaim: string;
  readonly rolesClaim: string;
  readonly timeoutMs: number;
  readonly jwksCooldownMs: number;
}

type KeySource = KeyObject | ReturnType<typeof createRemoteJWKSet>;

export class JwtAuthenticator implements Authenticator {
  readonly strategy = 'jwt';
  readonly wwwAuthenticate = 'Bearer realm="zaqar-bridge"';
  readonly #o: JwtOptions;
  readonly #key: KeySource;

  constructor(options: JwtOptions) {
    this.#o = options;
    if (options.jwksUrl !== undefined) {
      this.#key = createRemoteJWKSet(new URL(options.jwksUrl), {
        timeoutDuration: options.timeoutMs,
        cooldownDuration: options.jwksCooldownMs,
      });
    } else if (options.publicKeyFile !== undefined) {
      this.#key = createPublicKey(readFileSync(options.publicKeyFile, 'utf8'));
    } else {
      throw new Error('jwt: a JWKS URL or a public key file is required');
    }
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      const opts = {
        algorithms: JWT_ALGORITHMS,
        ...(this.#o.issuer !== undefined ? { issuer: this.#o.issuer } : {}),
        ...(this.#o.audience !== undefined ? { audience: this.#o.audience } : {}),
      };
      const key = this.#key;
      payload = (typeof key === 'function' ? await jwtVerify(token, key, opts) : await jwtVerify(token, key, opts)).payload;
    } catch (err) {
      if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
        throw new AuthError('unavailable', 'the JWKS could not be fetched', { cause: err });
      }
      throw new AuthError('invalid', `token refused: ${err.code}`);
    }
    return this.#identityOf(payload);
  }

  #identityOf(payload: JWTPayload): Identity {
    const project = payload[this.#o.projectClaim];
    if (typeof project !== 'string' || project === '') throw new AuthError('invalid', `token has no ${this.#o.projectClaim} claim`);
    const raw = payload[this.#o.rolesClaim];
    const roles = Array.isArray(raw)
      ? raw.filter((r): r is string => typeof r === 'string')
      : typeof raw === 'string'
        ? raw.split(',').map((r) => r.trim()).filter((r) => r !== '')
        : [];
    return { project, roles, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null };
  }
}
