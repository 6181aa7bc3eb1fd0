/** Observability: the root logger, named log events, redaction, health state and probes. */
export { createLogger, REDACT_PATHS, type LoggerOptions } from './logger.js';
export { LogEvents, type BoundPorts } from './log-events.js';
export { redactUrl, REDACTED } from './redact.js';
export { HealthState, type HealthSnapshot } from './health-state.js';
export { registerHealthRoutes, HEALTH_LIVE_PATH, HEALTH_READY_PATH } from './health-routes.js';
export * from './metrics.js';
