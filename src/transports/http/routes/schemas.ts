/**
 * Our extension for JSON Schema validation: the known schemas, `GET /v2/schemas` and
 * `GET /v2/schemas/{name}` (behind the usual before-hooks).
 */
import type { FastifyInstance } from 'fastify';
import type { SchemaCatalog } from '../../../core/ports.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../http-error.js';
import { sendJson } from '../reply.js';
import { resource } from '../routing.js';
import { param } from './params.js';

const EMPTY: SchemaCatalog = { list: () => [], get: () => undefined };

export function registerSchemaRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const catalog = deps.schemas ?? EMPTY;
  resource(app, '/v2/schemas', {
    GET: async (_req, reply) =>
      sendJson(reply, 200, {
        schemas: catalog.list().map((s) => ({ name: s.name, title: s.title, href: `/v2/schemas/${s.name}` })),
      }),
  });
  resource(app, '/v2/schemas/:schema_name', {
    GET: async (req, reply) => {
      const name = param(req, 'schema_name');
      const schema = catalog.get(name);
      if (schema === undefined) throw new HttpError(404, 'Not found', `Schema ${name} does not exist`);
      return sendJson(reply, 200, schema);
    },
  });
}
