/** Configuration: the env table, loading/validation, and the frozen `Config` type. */
export { loadConfig, parseConfig, deepFreeze, CONFIG_SCHEMA_URL, type LoadConfigOptions } from './load.js';
export { ENV_VARS, CONFIG_FILE_VAR, parseQueueSchemas, type Env, type EnvVarSpec } from './env.js';
export { ConfigError, isConfigError, CONFIG_INVALID, type ConfigIssue } from './errors.js';
export type {
  Config,
  BackendConfig,
  BackendType,
  MemoryBackendConfig,
  RabbitMqBackendConfig,
  LogLevel,
  QueueSchemaBinding,
} from './types.js';
export { LOG_LEVELS } from './types.js';
