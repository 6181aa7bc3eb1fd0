/**
 * The logger fastify gives each request (`request.log`), made on first use.
 *
 * fastify calls `logger.child({reqId})` for every request. A pino child serializes its
 * bindings through the redaction paths when it is made, which cost ~4 % of a post's CPU in a
 * profile of the REST post path, for a logger most requests never write to: fastify's two lines
 * per request are off at `info` (see QuietRequestLog), so only a rejected or failed request
 * logs. This one makes the real child when a line is written at an enabled level (or when
 * someone asks for a child of it), so those lines keep their `reqId` and every redaction.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export class RequestLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #real: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** fastify's `childLoggerFactory`. */
  static factory(this: void, logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
    return new RequestLogger(logger, bindings, options);
  }

  get level(): string {
    return this.#real?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#child().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.#write('error', args);
  }

  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }

  info(...args: unknown[]): void {
    this.#write('info', args);
  }

  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }

  silent(): void {
    // pino's silent level writes nothing.
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#child().child(bindings, options);
  }

  #child(): FastifyBaseLogger {
    this.#real ??= this.#parent.child(this.#bindings, this.#options);
    return this.#real;
  }

  #write(level: Method, args: unknown[]): void {
    // The parent's level holds unless this request's own was set (options or a later change).
    if (this.#real === undefined && this.#options.level === undefined && !isEnabled(this.#parent, level)) return;
    (this.#child()[level] as (...a: unknown[]) => void)(...args);
  }
}

/** Whether `logger` writes lines of `level` (a pino logger answers itself; others are asked by writing). */
function isEnabled(logger: FastifyBaseLogger, level: Method): boolean {
  const probe = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
  return typeof probe === 'function' ? probe.call(logger, level) : true;
}
