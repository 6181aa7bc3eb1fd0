/**
 * Configured bindings of queue-name patterns to schema names.
 *
 * Pattern syntax: a shell-style glob matched against the whole queue name, case-sensitively.
 * `*` matches any run of characters (including none), `?` exactly one character; every other
 * character must be one a queue name may contain (ASCII letters, digits, `_`, `-`) and
 * matches itself. No character classes, no `**`, no regular expressions. Examples:
 * `tripleo*` (tripleo, tripleo-ui-logging, …), `*-events`, `tenant?-ops`.
 */

/** One configured binding, as the configuration gives it. */
export interface QueueSchemaBinding {
  /** Glob over queue names (see the module TSDoc). */
  readonly pattern: string;
  /** Short name of a known schema, e.g. `tripleo-workflow-message-v1`. */
  readonly schema: string;
}

/** A binding with its glob compiled. */
export interface CompiledBinding {
  readonly pattern: string;
  readonly schema: string;
  readonly regex: RegExp;
}

const GLOB_CHARS = /^[A-Za-z0-9_\-*?]+$/;

/**
 * Compiles a glob to an anchored RegExp.
 * @throws Error naming the pattern when it is empty or holds a character outside the syntax.
 */
export function compileGlob(pattern: string): RegExp {
  if (!GLOB_CHARS.test(pattern)) {
    throw new Error(
      `Invalid queue pattern '${pattern}': only queue-name characters (A-Z a-z 0-9 _ -) and the wildcards * and ? are allowed`,
    );
  }
  // '-' is the only special character left outside a class, and it is literal there.
  const body = pattern.replace(/\*+/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * Compiles every binding, checking that each names a known schema.
 * @throws Error naming the pattern on a bad glob or an unknown schema name.
 */
export function compileBindings(
  bindings: readonly QueueSchemaBinding[],
  isKnown: (schema: string) => boolean,
): readonly CompiledBinding[] {
  return bindings.map(({ pattern, schema }) => {
    if (!isKnown(schema)) {
      throw new Error(`Queue pattern '${pattern}' is bound to unknown schema '${schema}'`);
    }
    return { pattern, schema, regex: compileGlob(pattern) };
  });
}

/** The schema of the first binding (in configuration order) whose glob matches, or null. */
export function matchBinding(bindings: readonly CompiledBinding[], queue: string): string | null {
  for (const b of bindings) {
    if (b.regex.test(queue)) return b.schema;
  }
  return null;
}
