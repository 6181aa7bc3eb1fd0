/**
 * WriteBatcher: the first frame a socket gets in a turn is written at once; from the second on
 * the socket is corked, and every socket corked in the turn is uncorked in the microtask after.
 */
import { describe, expect, it } from 'vitest';
import { SocketBatch, WriteBatcher, type Corkable } from '../../../src/transports/ws/write-batch.js';

class FakeSocket implements Corkable {
  depth = 0;
  corks = 0;
  cork(): void {
    this.depth += 1;
    this.corks += 1;
  }
  uncork(): void {
    this.depth -= 1;
  }
}

const turnEnds = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WriteBatcher', () => {
  it('leaves a lone frame uncorked', async () => {
    const w = new WriteBatcher();
    const s = new FakeSocket();
    w.beforeWrite(new SocketBatch(s));
    expect(s.corks).toBe(0);
    await turnEnds();
    expect(s.corks).toBe(0);
  });

  it('corks each socket once from its second frame of a turn and uncorks it after the turn', async () => {
    const w = new WriteBatcher();
    const [a, b] = [new FakeSocket(), new FakeSocket()];
    const [ba, bb] = [new SocketBatch(a), new SocketBatch(b)];
    for (let i = 0; i < 5; i++) {
      w.beforeWrite(ba);
      w.beforeWrite(bb);
    }
    expect([a.corks, a.depth, b.corks, b.depth]).toEqual([1, 1, 1, 1]);
    await Promise.resolve(); // the microtask queued by the turn's first write
    expect([a.depth, b.depth]).toEqual([0, 0]);
    // A new turn: the first frame is written at once again.
    w.beforeWrite(ba);
    expect([a.corks, a.depth]).toEqual([1, 0]);
    w.beforeWrite(ba);
    expect([a.corks, a.depth]).toEqual([2, 1]);
    await turnEnds();
    expect(a.depth).toBe(0);
  });

  it('uncorks every socket of the turn even when one throws', async () => {
    const w = new WriteBatcher();
    const broken: Corkable = { cork: () => undefined, uncork: () => { throw new Error('destroyed'); } };
    const ok = new FakeSocket();
    const [bBroken, bOk] = [new SocketBatch(broken), new SocketBatch(ok)];
    for (let i = 0; i < 2; i++) {
      w.beforeWrite(bBroken);
      w.beforeWrite(bOk);
    }
    await turnEnds();
    expect(ok.depth).toBe(0);
    expect([bBroken.corked, bOk.corked]).toEqual([false, false]);
  });
});
