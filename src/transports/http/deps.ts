import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/index.js';
import type { Limits } from '../../core/limits.js';
import type { SchemaCatalog } from '../../core/ports.js';
import type { ZaqarService } from '../../core/types.js';

/** What the REST transport needs; everything Zaqar-semantic goes through `service`. */
export interface HttpDeps {
  readonly service: ZaqarService;
  readonly limits: Limits;
  readonly logger: Logger;
  /** JSON Schemas served under `/v2/schemas`; an empty list when absent. */
  readonly schemas?: SchemaCatalog;
  /** Serve HTTPS; the key and certificate are set with `server.setSecureContext` before listening. */
  readonly tls?: boolean;
  /** Origins allowed by CORS (`*` or exact origins); absent = no CORS headers. */
  readonly corsOrigins?: '*' | ReadonlySet<string>;
  /** Token verification; absent = noauth (X-Project-ID and X-Roles are trusted). */
  readonly auth?: Authenticator;
  /** Secret of pre-signed URLs; absent = `share` answers 400 and signatures never verify. */
  readonly signedUrlKey?: string;
}
