/**
 * Zaqar's before-hooks, in its order (reference §4.1, `zaqar/transport/wsgi/driver.py`):
 * urlencoded body check → Accept check → Client-ID → X-Project-ID → queue name. They run on
 * every routed request before the body is read, so header errors win over body errors.
 */
import type { FastifyRequest } from 'fastify';
import { canonicalClientId, queueNameProblem } from '../../core/names.js';
import { contentLength } from './body.js';
import { HttpError, badRequest, notFound } from './http-error.js';
import { verifySignature } from '../../auth/signed-url.js';
import { pathOf } from './context.js';

/** Runs every before-hook and sets `request.zaqarContext` on versioned paths. */
export function beforeHooks(request: FastifyRequest, signedUrlKey?: string): void {
  // Unrouted paths (404) and routing responders (405, OPTIONS) answer before any hook.
  if (request.is404 || request.routeOptions.config.routingOnly === true) return;
  verifyPreSignedUrl(request, signedUrlKey);
  rejectUrlencoded(request);
  requireAcceptsJson(request);
  const path = pathOf(request);
  const versioned = path.startsWith('/v2/');
  const clientId = checkClientId(request, versioned);
  if (!versioned) return;
  const project = requireProject(request);
  checkQueueName(request, project);
  request.zaqarContext = { project, clientId };
}

/** Whether the request carries a (non-empty) `URL-Signature`: it then needs no token. */
export function isPreSigned(request: FastifyRequest): boolean {
  const s = header(request, 'url-signature');
  return s !== undefined && s !== '';
}

/**
 * Zaqar's `verify_pre_signed_url` hook: a request with `URL-Signature` must use a listed
 * method on a listed path and carry a valid, unexpired signature, else plain 404. Paths are
 * matched as substrings (Zaqar uses `re.search`; a queue path has no regex metacharacter).
 */
function verifyPreSignedUrl(request: FastifyRequest, key: string | undefined): void {
  if (!isPreSigned(request)) return;
  const list = (name: string): string[] => (header(request, name) ?? '').split(',');
  const methods = list('url-methods');
  const paths = list('url-paths');
  const path = pathOf(request);
  if (!methods.includes(request.method)) throw notFound();
  if (!paths.some((p) => p !== '' && path.includes(p))) throw notFound();
  const ok =
    key !== undefined &&
    verifySignature(key, paths, header(request, 'x-project-id') ?? '', methods, header(request, 'url-expires') ?? '', header(request, 'url-signature') ?? '', Date.now());
  if (!ok) throw notFound();
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function rejectUrlencoded(request: FastifyRequest): void {
  if (contentLength(request) === null) return;
  const type = header(request, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return;
  throw badRequest(
    'Invalid Content-Type',
    'Endpoint does not accept `application/x-www-form-urlencoded` content; currently supported media type is ' +
      '`application/json`; specify proper client-side media type with the "Content-Type" header.',
  );
}

function requireAcceptsJson(request: FastifyRequest): void {
  const accept = header(request, 'accept');
  if (accept === undefined || acceptsJson(accept)) return;
  throw new HttpError(406, 'Not Acceptable', undefined, { emptyBody: true });
}

/** Whether an Accept header admits `application/json` with a non-zero quality. */
export function acceptsJson(accept: string): boolean {
  if (accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return type === 'application/json' || type === 'application/*' || type === '*/*' || type === '*';
  });
}

function checkClientId(request: FastifyRequest, required: boolean): string | null {
  const raw = header(request, 'client-id');
  if (raw === undefined) {
    if (required) throw badRequest('Missing header value', 'The "Client-ID" header is required.');
    return null;
  }
  const id = canonicalClientId(raw);
  if (id === null) throw badRequest('Wrong UUID value', 'Malformed hexadecimal UUID.');
  return id;
}

function requireProject(request: FastifyRequest): string {
  const project = header(request, 'x-project-id');
  const identity = request.zaqarIdentity;
  if (identity !== null) {
    // The token decides; a disagreeing header is refused, never followed (README "Behind Keystone").
    if (project === undefined || project === identity.project) return identity.project;
    throw new HttpError(403, 'Not authorized', 'The X-Project-ID header does not match the project of the token.');
  }
  if (project === undefined) {
    throw badRequest('Project-Id Missing', 'The header X-PROJECT-ID was missing');
  }
  if (project === '') {
    throw badRequest(
      'Empty project header not allowed',
      'X-PROJECT-ID cannot be an empty string. Specify the right header X-PROJECT-ID and retry.',
    );
  }
  return project;
}

function checkQueueName(request: FastifyRequest, project: string): void {
  const params = request.params as Record<string, string> | undefined;
  const queue = params?.['queue_name'];
  if (queue === undefined || queueNameProblem(queue, project) === null) return;
  throw badRequest(
    'Invalid queue identification',
    'The format of the submitted queue name or project id is not valid.',
  );
}
