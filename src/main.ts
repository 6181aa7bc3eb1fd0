/**
 * Process entry point, and the only module that touches `process`: reads the environment,
 * builds and starts the app, and turns SIGTERM/SIGINT into a graceful shutdown bounded by
 * `shutdown.timeoutMs` (a second signal exits at once).
 *
 * Exit codes: 0 after a clean shutdown; 1 for invalid configuration, a failed start, a
 * failed or overdue shutdown, or a fatal error.
 */
import { buildApp, type App } from './app.js';
import { isConfigError, loadConfig, type Config } from './config/index.js';
import { createLogger, LogEvents } from './observability/index.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

async function main(): Promise<void> {
  const config = readConfig();
  if (config === undefined) return;
  const logger = createLogger({ level: config.log.level });
  const events = new LogEvents(logger);
  events.configLoaded(config);

  const app = buildApp(config, { logger });
  installShutdown(app, events, config.shutdown.timeoutMs);
  try {
    await app.start();
  } catch {
    // start() has logged the cause and closed what it opened.
    exit(1);
  }
}

/** Loads the configuration; on failure prints one clear message and sets exit code 1. */
function readConfig(): Config | undefined {
  try {
    return loadConfig({ env: process.env });
  } catch (err) {
    process.stderr.write(`zaqar-bridge: ${isConfigError(err) ? err.message : String(err)}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

function installShutdown(app: App, events: LogEvents, timeoutMs: number): void {
  let shuttingDown = false;
  const shutdown = (reason: string, code: number): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    events.shutdownStarted(reason);
    const deadline = setTimeout(() => {
      events.shutdownDeadlineExceeded(timeoutMs);
      exit(1);
    }, timeoutMs);
    app.close().then(
      () => exit(code),
      () => exit(1),
    ).finally(() => clearTimeout(deadline));
  };

  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (shuttingDown) {
        events.secondSignal(signal);
        exit(1);
      }
      shutdown(signal, 0);
    });
  }
  process.on('uncaughtException', (err) => {
    events.fatal(err, 'uncaughtException');
    shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (reason) => {
    events.fatal(reason, 'unhandledRejection');
    shutdown('unhandledRejection', 1);
  });
}

/**
 * Exits once stdout has drained, so the last log lines are not lost. pino writes to
 * stdout synchronously by default, so this is a belt-and-braces flush.
 */
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

void main();
