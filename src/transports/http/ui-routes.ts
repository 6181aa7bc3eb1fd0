/**
 * The live-tail page at `/_ui/` (UI_ENABLED): `ui/` of the repository, and the compiled SDK
 * (`clients/js/dist/`, built by `npm run build`) under `/_ui/sdk/`. Files are read once at
 * start; a missing SDK build is answered 503 with the command that builds it, never a crash.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';

export interface UiOptions {
  /** Directory of index.html, app.js, style.css. */
  readonly pageDir: string;
  /** Directory of the SDK's compiled `*.js`. */
  readonly sdkDir: string;
  /** What `/_ui/config.json` tells the page. */
  readonly wsUrl: string | null;
  readonly wsPort: () => number;
  readonly logger: Logger;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function load(dir: string, names: (name: string) => boolean): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) if (names(name)) files.set(name, readFileSync(join(dir, name)));
  return files;
}

function typeOf(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

export function registerUiRoutes(app: FastifyInstance, o: UiOptions): void {
  const page = load(o.pageDir, (n) => n in { 'index.html': 1, 'app.js': 1, 'style.css': 1 });
  let sdk = new Map<string, Buffer>();
  try {
    sdk = load(o.sdkDir, (n) => /^[a-z-]+\.js$/.test(n));
  } catch {
    // Reported below, per request.
  }
  if (sdk.size === 0) o.logger.warn({ event: 'ui_sdk_missing', dir: o.sdkDir }, 'ui: the SDK is not built (npm run build); /_ui/ answers 503');
  const headers = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };

  app.get('/_ui', { logLevel: 'warn' }, async (_req, reply) => reply.redirect('/_ui/', 302));
  app.get('/_ui/config.json', { logLevel: 'warn' }, async (_req, reply) =>
    reply.headers(headers).type('application/json').send(JSON.stringify({ wsUrl: o.wsUrl, wsPort: o.wsPort() })),
  );
  const servePage = async (name: string, reply: FastifyReply): Promise<FastifyReply> => {
    const body = page.get(name);
    if (body === undefined) return reply.code(404).type('text/plain').send('Not found');
    if (sdk.size === 0) return reply.code(503).type('text/plain').send('The SDK is not built: run `npm run build` (it compiles clients/js too).');
    return reply.headers(headers).type(typeOf(name)).send(body);
  };
  app.get('/_ui/', { logLevel: 'warn' }, async (_req, reply) => servePage('index.html', reply));
  app.get<{ Params: { file: string } }>('/_ui/:file', { logLevel: 'warn' }, async (req, reply) => servePage(req.params.file, reply));
  app.get<{ Params: { file: string } }>('/_ui/sdk/:file', { logLevel: 'warn' }, async (req, reply) => {
    const body = sdk.get(req.params.file);
    if (body === undefined) return reply.code(404).type('text/plain').send('Not found');
    return reply.headers(headers).type(typeOf(req.params.file)).send(body);
  });
}
