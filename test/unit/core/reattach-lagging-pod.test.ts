/**
 * A client that saw marker M on a pod further along the log reattaches on a pod whose fold is
 * still behind M: the pod catches up before it answers (a marker still beyond the fold then was
 * never handed out: `gap`), and nothing up to M is delivered again.
 * (Found by the random-reattach property test on RabbitMQ; made deterministic here with a
 * backend whose deliveries to one pod are held back.)
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/backends/memory/index.js';
import { createZaqarService } from '../../../src/core/engine.js';
import type { LogRecord, LogRef, Tail, TailHandler, TailStart } from '../../../src/core/ports.js';
import { DelegatingBackend } from '../../fixtures/delegating-backend.js';
import type { Notification } from '../../../src/core/types.js';

/** The shared backend as one pod sees it, with queue-log deliveries held while `held`. */
class LaggingView extends DelegatingBackend {
  held = false;
  readonly #queue: (() => void)[] = [];

  override tail(log: LogRef, start: TailStart, handler: TailHandler): Tail {
    return super.tail(log, start, {
      onRecord: (r: LogRecord) => {
        if (this.held && log.kind === 'queue') this.#queue.push(() => handler.onRecord(r));
        else handler.onRecord(r);
      },
    });
  }

  release(): void {
    this.held = false;
    for (const deliver of this.#queue.splice(0)) deliver();
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('reattach on a pod that lags behind the client', () => {
  it('skips live messages up to the client\'s marker when the pod catches up', async () => {
    const shared = new MemoryBackend();
    const lagging = new LaggingView(shared);
    const ahead = createZaqarService({ backend: shared });
    const behind = createZaqarService({ backend: lagging });
    await ahead.start();
    await behind.start();
    const ctx = { project: 'p', clientId: '3381af92-2b9e-11e3-b191-71861300734c' };
    await ahead.postMessages(ctx, 'q', [{ body: 0 }]);
    await behind.watch('p', 'q', () => undefined); // the lagging pod folds the queue too

    const received: unknown[] = [];
    const onPodA: Notification[] = [];
    const a = await ahead.attach('p', 'q', (n) => onPodA.push(n), 'next');
    lagging.held = true;
    await ahead.postMessages(ctx, 'q', [{ body: 1 }, { body: 2 }]);
    await tick();
    received.push(...onPodA.map((n) => n.body));
    a.stop();

    // Reattach on the pod that has not folded bodies 1 and 2 yet: beyond its fold, the marker
    // makes it catch up first (the answer waits for that), then nothing is delivered twice.
    const marker = onPodA.at(-1)?.marker ?? '';
    const attached = behind.attach('p', 'q', (n) => received.push(n.body), { after: marker });
    await tick();
    lagging.release();
    const r = await attached;
    expect(r).toMatchObject({ replayed: 0, gap: false, marker });
    await ahead.postMessages(ctx, 'q', [{ body: 3 }]);
    await tick();
    expect(received).toEqual([1, 2, 3]);
    await ahead.close();
    await behind.close();
  });
});
