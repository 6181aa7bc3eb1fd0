/**
 * TLS on both listeners: a self-signed certificate made by the test (openssl), HTTPS on the
 * REST port and WSS on the WebSocket port, trusted through that certificate as CA.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type App } from '../../src/app.js';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';

const dir = mkdtempSync(join(tmpdir(), 'zb-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
let ca: Buffer;
let app: App;
let ports: { restPort: number; wsPort: number };

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  ca = readFileSync(certFile);
  const config = parseConfig({ server: { restPort: 0, wsPort: 0, tls: { certFile, keyFile } }, log: { level: 'silent' } });
  app = buildApp(config, { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  ports = await app.start();
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ports.restPort, path, ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS listeners', () => {
  it('serves REST over HTTPS', async () => {
    const res = await get('/_health/ready');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ready: true });
  });

  it('serves WebSocket over WSS', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${ports.wsPort}`, { ca });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const answer = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    ws.send(JSON.stringify({ action: 'queue_list', headers: { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'p' }, body: {} }));
    expect(JSON.parse(await answer)).toMatchObject({ headers: { status: 200 } });
    ws.close();
  });

  it('refuses plain HTTP on the TLS port', async () => {
    await expect(fetch(`http://127.0.0.1:${ports.restPort}/_health/live`)).rejects.toThrow();
  });

  it('needs both files: one alone is a configuration error', () => {
    expect(() => loadConfig({ env: { TLS_CERT_FILE: certFile } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { TLS_KEY_FILE: keyFile } })).toThrow(/keyFile|certFile/);
    expect(loadConfig({ env: { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } }).server.tls).toEqual({ certFile, keyFile });
  });
});
