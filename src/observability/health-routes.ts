/**
 * Internal probes on the REST listener, under `/_health/` so they never collide with a
 * Zaqar route (Zaqar's own `/v2/health` is an admin API with another meaning):
 * `GET /_health/live` is 200 while the process serves; `GET /_health/ready` is 200 when ready,
 * else 503, each with the {@link HealthSnapshot} as body.
 */
import type { FastifyInstance } from 'fastify';
import type { HealthState } from './health-state.js';
import { LEGACY_METRICS_PATH, METRICS_PATH, type Metrics } from './metrics.js';

export const HEALTH_LIVE_PATH = '/_health/live';
export const HEALTH_READY_PATH = '/_health/ready';

export function registerHealthRoutes(server: FastifyInstance, health: HealthState, metrics?: Metrics): void {
  if (metrics !== undefined) {
    for (const path of [METRICS_PATH, LEGACY_METRICS_PATH]) {
      server.get(path, { logLevel: 'warn' }, async (_request, reply) =>
        reply.code(200).header('content-type', metrics.contentType).send(await metrics.render()),
      );
    }
  }
  server.get(HEALTH_LIVE_PATH, { logLevel: 'warn' }, async (_request, reply) => {
    return reply.code(200).send(health.snapshot());
  });
  server.get(HEALTH_READY_PATH, { logLevel: 'warn' }, async (_request, reply) => {
    const snapshot = health.snapshot();
    return reply.code(snapshot.ready ? 200 : 503).send(snapshot);
  });
}
