/**
 * CORS for the REST API (CORS_ORIGINS): allowed origins get the headers, others do not, and
 * without the setting nothing changes; with auth on (jwt), a preflight is answered before the
 * token check.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';

const UI = 'https://ui.example.org';
const headers = { 'Client-ID': '5f1d9a43-6b7c-4e8d-9f0a-1b2c3d4e5f60', 'X-Project-ID': 'cors', 'Content-Type': 'application/json' };
const apps: App[] = [];

async function start(server: Record<string, unknown>, auth?: Record<string, unknown>): Promise<string> {
  const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0, ...server }, log: { level: 'silent' }, ...(auth === undefined ? {} : { auth }) });
  const app = buildApp(config, {
    logger: createLogger({ level: 'silent' }),
    defaultMetrics: false,
  });
  apps.push(app);
  return `http://127.0.0.1:${(await app.start()).restPort}`;
}

let base = '';
let plain = '';
let guarded = '';
let keyDir = '';
beforeAll(async () => {
  base = await start({ corsOrigins: `${UI}, http://localhost:5173` });
  plain = await start({});
  keyDir = await mkdtemp(join(tmpdir(), 'zb-cors-'));
  const file = join(keyDir, 'key.pem');
  await writeFile(file, await exportSPKI((await generateKeyPair('ES256')).publicKey));
  guarded = await start({ corsOrigins: UI }, { strategy: 'jwt', jwtPublicKeyFile: file });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  if (keyDir !== '') await rm(keyDir, { recursive: true, force: true });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin before any Zaqar check', async () => {
    const res = await fetch(`${base}/v2/queues/tripleo/messages`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'client-id, x-project-id, content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('client-id');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('answers the preflight before the token check when auth is on; the real request still needs a token', async () => {
    const pre = await fetch(`${guarded}/v2/queues`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-auth-token' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(UI);
    const real = await fetch(`${guarded}/v2/queues`, { headers: { ...headers, Origin: UI } });
    expect(real.status).toBe(401);
    expect(real.headers.get('access-control-allow-origin')).toBe(UI);
  });

  it('marks real answers (errors too) for the allowed origin, and exposes Location', async () => {
    const posted = await fetch(`${base}/v2/queues/tripleo/messages`, { method: 'POST', headers: { ...headers, Origin: UI }, body: JSON.stringify({ messages: [{ body: 1 }] }) });
    expect(posted.status).toBe(201);
    expect(posted.headers.get('access-control-allow-origin')).toBe(UI);
    expect(posted.headers.get('access-control-expose-headers')).toContain('Location');
    const bad = await fetch(`${base}/v2/queues/tripleo/messages`, { headers: { Origin: UI } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe(UI);
  });

  it('gives another origin no CORS headers, and a plain OPTIONS keeps Zaqar\'s answer', async () => {
    const other = await fetch(`${base}/v2/queues`, { headers: { ...headers, Origin: 'https://evil.example.com' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const options = await fetch(`${base}/v2/queues`, { method: 'OPTIONS', headers });
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')).toBe('GET');
  });

  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const res = await fetch(`${plain}/v2/queues`, { headers: { ...headers, Origin: UI } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${plain}/v2/queues`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'GET' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a malformed CORS_ORIGINS at boot', () => {
    expect(() => parseConfig({ server: { corsOrigins: 'ui.example.org' } })).toThrow(/corsOrigins/);
  });
});
