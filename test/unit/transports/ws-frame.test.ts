/** Notification frames built once and written to the raw socket are read by a real `ws` client as sent. */
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { wsFrame } from '../../../src/transports/ws/notifications.js';

let http: Server;
let port = 0;
/** The raw socket of the first accepted connection. */
let firstRaw: Promise<Duplex>;

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  let accepted: (raw: Duplex) => void = () => undefined;
  firstRaw = new Promise((resolve) => (accepted = resolve));
  http = createServer();
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, () => accepted(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

afterAll(() => new Promise<void>((resolve) => http.close(() => resolve())));

describe('wsFrame', () => {
  it('frames text and binary payloads of every length class (7-bit, 16-bit, 64-bit)', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: { data: Buffer; binary: boolean }[] = [];
    client.on('message', (data: Buffer, binary) => received.push({ data, binary }));
    await new Promise((resolve) => client.once('open', resolve));
    const raw = await firstRaw;
    const sizes = [0, 1, 125, 126, 127, 65_535, 65_536, 200_000];
    const sent = sizes.flatMap((n, i) => {
      const text = Buffer.from('x'.repeat(n));
      const bin = Buffer.alloc(n, i);
      return [
        { data: text, binary: false },
        { data: bin, binary: true },
      ];
    });
    for (const f of sent) raw.write(wsFrame(f.data, f.binary));
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(sent.length);
    expect(received.map((r) => [r.data.length, r.binary])).toEqual(sent.map((s) => [s.data.length, s.binary]));
    for (const [i, r] of received.entries()) expect(r.data.equals(sent[i]?.data ?? Buffer.alloc(0))).toBe(true);
    client.close();
  });
});
