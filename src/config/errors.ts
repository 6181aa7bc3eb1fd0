/**
 * The boot-time configuration error. It is not a Zaqar API error (no client ever sees it),
 * so it lives here rather than in the core's catalogue.
 */

export const CONFIG_INVALID = 'ZQR_ERR_CONFIG_INVALID';

/** One problem: where (config path and where the value came from) and what. */
export interface ConfigIssue {
  /** Dotted config path, e.g. `server.restPort`; empty for the root. */
  readonly path: string;
  /** `env PORT`, `file /etc/zaqar-bridge.json`, or `default`. */
  readonly source: string;
  readonly message: string;
}

/** Every configuration problem found at boot, reported at once. */
export class ConfigError extends Error {
  readonly code = CONFIG_INVALID;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super(formatIssues(issues), options);
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  const lines = issues.map((i) => `  - ${i.path === '' ? '(root)' : i.path} [${i.source}]: ${i.message}`);
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return `${CONFIG_INVALID}: invalid configuration (${issues.length} ${noun}):\n${lines.join('\n')}`;
}

/** True when `e` is a {@link ConfigError}. */
export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}
