/**
 * Zaqar WebSocket transport (reference §3): public front door.
 */
export { createWsServer } from './server.js';
export type { TlsMaterial, WsDeps, WsServer } from './server.js';
export type { WsTelemetry } from './connection.js';
