/** The core's public surface: Zaqar semantics, its ports and its error catalogue. */
export * from './types.js';
export * from './errors.js';
export * from './ports.js';
export * from './events.js';
export * from './limits.js';
export * from './names.js';
export { createZaqarService, DEFAULT_CATALOG_SNAPSHOTS, type CatalogSnapshotPolicy, type CoreDiagnostic, type EngineDeps, type ZaqarEngine } from './engine.js';
export { postSize } from './rules.js';
export { subscriptionRecord } from './records.js';
