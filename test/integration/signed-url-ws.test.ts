/**
 * Pre-signed URLs over WebSocket (reference §3.4.4): with auth on and SIGNED_URL_KEY set, a
 * frame carrying a valid signature passes the gate before `authenticate`, for the message
 * actions whose HTTP method the signature lists, on the queue path it lists; anything else
 * gets Zaqar's 403 "Not authentified.".
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedUrl } from '../../src/auth/signed-url.js';
import { Peer, startAuthApp, type AuthApp } from '../fixtures/auth-app.js';

const KEY = 'ws-signing-secret';
let dir: string;
let t: AuthApp;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zb-signed-ws-'));
  const { publicKey } = await generateKeyPair('RS256');
  const pem = join(dir, 'jwt.pem');
  await writeFile(pem, await exportSPKI(publicKey));
  t = await startAuthApp({ strategy: 'jwt', jwtPublicKeyFile: pem, signedUrlKey: KEY });
});

afterAll(async () => {
  await t.app.close();
  await rm(dir, { recursive: true, force: true });
});

function signedHeaders(paths: string[], methods: string[], project = 'p1', key = KEY): Record<string, unknown> {
  const s = createSignedUrl(key, paths, project, methods, undefined, Date.now());
  return { 'X-Project-ID': s.project, 'URL-Signature': s.signature, 'URL-Expires': s.expires, 'URL-Methods': s.methods, 'URL-Paths': s.paths };
}

async function send(peer: Peer, action: string, headers: Record<string, unknown>, body: Record<string, unknown>): Promise<number | undefined> {
  peer.socket.send(JSON.stringify({ action, headers: { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', ...headers }, body }));
  return (await peer.next()).headers?.status;
}

describe('pre-signed frames over WebSocket', () => {
  it('lets signed message actions through before authenticate, and nothing else', async () => {
    const peer = await Peer.open(t.ws);
    const headers = signedHeaders(['/v2/queues/shared/messages'], ['GET', 'POST']);
    expect(await send(peer, 'message_post', headers, { queue_name: 'shared', messages: [{ body: 'signed', ttl: 300 }] })).toBe(201);
    expect(await send(peer, 'message_list', headers, { queue_name: 'shared', echo: true })).toBe(200);
    // A method the signature does not list, an action that cannot be signed, another queue.
    expect(await send(peer, 'message_delete_many', headers, { queue_name: 'shared', message_ids: ['x'] })).toBe(403);
    expect(await send(peer, 'queue_list', headers, {})).toBe(403);
    expect(await send(peer, 'message_list', headers, { queue_name: 'other' })).toBe(403);
    // A signature made with another key, or for another project than the frame names.
    expect(await send(peer, 'message_list', signedHeaders(['/v2/queues/shared/messages'], ['GET'], 'p1', 'wrong key'), { queue_name: 'shared' })).toBe(403);
    expect(await send(peer, 'message_list', { ...signedHeaders(['/v2/queues/shared/messages'], ['GET']), 'X-Project-ID': 'p2' }, { queue_name: 'shared' })).toBe(403);
    // No signature: Zaqar's gate as usual.
    expect(await send(peer, 'message_list', { 'X-Project-ID': 'p1' }, { queue_name: 'shared' })).toBe(403);
    peer.close();
  });
});
