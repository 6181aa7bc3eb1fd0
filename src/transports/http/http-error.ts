/**
 * Errors that only the REST transport produces (routing, content negotiation, policy), and
 * the constructors of REST-only validation errors whose title differs from the core's
 * default. Zaqar-semantic errors stay {@link ZaqarError}s from the core.
 */
import { ZaqarError } from '../../core/errors.js';

/** A response decided by the transport itself; rendered as `{"title"[, "description"]}`. */
export class HttpError extends Error {
  readonly status: number;
  readonly title: string;
  /** Omitted from the body when undefined (routing 404/405 and the 415 quirk). */
  readonly description: string | undefined;
  /** True for 406: Zaqar answers with an empty body. */
  readonly emptyBody: boolean;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    title: string,
    description?: string,
    options: { emptyBody?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(description ?? title);
    this.name = 'HttpError';
    this.status = status;
    this.title = title;
    this.description = description;
    this.emptyBody = options.emptyBody ?? false;
    this.headers = options.headers ?? {};
  }
}

/** Falcon's routing 404 (also `/v2` without the slash, pools, flavors). */
export const notFound = (): HttpError => new HttpError(404, '404 Not Found');

/** Falcon's routing 405, with the `Allow` header listing the resource's methods. */
export const methodNotAllowed = (allow: string): HttpError =>
  new HttpError(405, '405 Method Not Allowed', undefined, { headers: { allow } });

/** Policy refusal (oslo.policy), e.g. `GET /v2/health` without the admin role. */
export const notAuthorized = (): HttpError =>
  new HttpError(403, 'Not authorized', 'You are not authorized to complete this action.');

/** 400 "Invalid request body" (Zaqar's HTTPBadRequestBody). */
export const badBody = (description: string): ZaqarError =>
  new ZaqarError('ZQR_ERR_BAD_REQUEST_BODY', description, { title: 'Invalid request body' });

/** 400 "Invalid API request" (Zaqar's HTTPBadRequestAPI). */
export const badApi = (description: string): ZaqarError => new ZaqarError('ZQR_ERR_VALIDATION', description);

/** 400 "Invalid parameter" for a query parameter of the wrong type (Falcon's HTTPInvalidParam). */
export const invalidParam = (name: string, why: string): ZaqarError =>
  new ZaqarError('ZQR_ERR_VALIDATION', `The "${name}" parameter is invalid. ${why}`, {
    title: 'Invalid parameter',
  });

/** 400 with a custom title (header checks). */
export const badRequest = (title: string, description: string): ZaqarError =>
  new ZaqarError('ZQR_ERR_VALIDATION', description, { title });
