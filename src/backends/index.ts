/** Backends: the `Backend` port's drivers and the factory that chooses one from config. */
export { createBackend, assertNever } from './create-backend.js';
export { MemoryBackend, type MemoryBackendOptions } from './memory/index.js';
export {
  RabbitMqBackend,
  type RabbitMqBackendOptions,
  type Diagnostic,
  type ForeignDelivery,
  type ForeignMessageHandler,
} from './rabbitmq/index.js';
