/** The SDK takes the `ws` package's WebSocket as it is (Node 20 has no global one). */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from '../../../clients/js/src/index.js';

describe('the SDK on Node', () => {
  it('accepts the ws package as its WebSocket, and fails clearly without one', async () => {
    const client = createClient({ url: 'ws://127.0.0.1:9/', projectId: 'p', WebSocket, reconnect: false });
    await client.close();
    const g = globalThis as unknown as { WebSocket?: unknown };
    const saved = g.WebSocket;
    g.WebSocket = undefined;
    try {
      expect(() => createClient({ url: 'ws://127.0.0.1:9/', projectId: 'p' })).toThrow(/No WebSocket/);
    } finally {
      g.WebSocket = saved;
    }
  });
});
