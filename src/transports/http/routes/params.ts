/** Typed access to route parameters. */
import type { FastifyRequest } from 'fastify';

/** A path parameter; routes only ask for parameters their URL declares. */
export function param(request: FastifyRequest, name: string): string {
  const value = (request.params as Record<string, string | undefined>)[name];
  if (value === undefined) throw new Error(`route parameter ${name} missing`);
  return value;
}

/** `/v2/queues/<name>` of the request's queue. */
export function queuePath(request: FastifyRequest): string {
  return `/v2/queues/${param(request, 'queue_name')}`;
}
