/**
 * Authentication strategies (README "Behind Keystone"); `noauth` is the absence of one.
 */
import type { Logger } from 'pino';
import type { AuthConfig } from '../config/types.js';
import { JwtAuthenticator } from './jwt.js';
import { KeystoneAuthenticator } from './keystone.js';
import type { Authenticator } from './types.js';

export { withTrust } from './trust-subscriptions.js';
export { AuthError, isAdmin, isAuthError, type Authenticator, type Caller, type Identity, type Trusts } from './types.js';

/** The configured strategy; undefined for `noauth`. The config loader checked the fields. */
export function createAuthenticator(config: AuthConfig, logger: Logger): Authenticator | undefined {
  const need = (v: string | undefined, name: string): string => {
    if (v === undefined) throw new Error(`auth: ${name} is required`);
    return v;
  };
  switch (config.strategy) {
    case 'noauth':
      return undefined;
    case 'keystone':
      return new KeystoneAuthenticator({
        url: need(config.keystoneUrl, 'keystoneUrl'),
        username: need(config.keystoneUsername, 'keystoneUsername'),
        password: need(config.keystonePassword, 'keystonePassword'),
        projectName: need(config.keystoneProjectName, 'keystoneProjectName'),
        userDomainName: config.keystoneUserDomainName,
        projectDomainName: config.keystoneProjectDomainName,
        cacheTtlMs: config.cacheTtlSeconds * 1000,
        timeoutMs: config.timeoutMs,
        logger: logger.child({ component: 'keystone' }),
      });
    case 'jwt':
      return new JwtAuthenticator({
        ...(config.jwtJwksUrl !== undefined ? { jwksUrl: config.jwtJwksUrl } : {}),
        ...(config.jwtPublicKeyFile !== undefined ? { publicKeyFile: config.jwtPublicKeyFile } : {}),
        ...(config.jwtIssuer !== undefined ? { issuer: config.jwtIssuer } : {}),
        ...(config.jwtAudience !== undefined ? { audience: config.jwtAudience } : {}),
        projectClaim: config.jwtProjectClaim,
        rolesClaim: config.jwtRolesClaim,
        timeoutMs: config.timeoutMs,
        jwksCooldownMs: config.jwtJwksCooldownMs,
      });
  }
}
