/**
 * Group commit: the posts a pod receives while a queue's append is in flight, and the posts of
 * requests read in the same turn of the event loop, go to the log as one record, in the order
 * they were made; each is still answered only after that record was confirmed and read back.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBackend } from '../../../src/backends/memory/index.js';
import { createZaqarService, type ZaqarEngine } from '../../../src/core/engine.js';
import type { LogEvent } from '../../../src/core/events.js';
import { BATCH } from '../../../src/core/folded-log.js';
import type { LogRef } from '../../../src/core/ports.js';
import { DelegatingBackend } from '../../fixtures/delegating-backend.js';

/** Records the posts appended to queue logs, and holds their confirms until released. */
class HeldAppends extends DelegatingBackend {
  readonly records: LogEvent[] = [];
  readonly #held: (() => void)[] = [];
  hold = false;

  override async append(log: LogRef, event: LogEvent): Promise<void> {
    // Barriers (a queue's open, a read that syncs) are neither recorded nor held.
    if (log.kind !== 'queue' || postBodies(event).length === 0) return super.append(log, event);
    this.records.push(event);
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    return super.append(log, event);
  }

  release(): void {
    for (const r of this.#held.splice(0)) r();
  }

  get heldCount(): number {
    return this.#held.length;
  }
}

const ctx = { project: 'p', clientId: '3381af92-2b9e-11e3-b191-71861300734c' };
const engines: ZaqarEngine[] = [];

async function engineOn(backend: HeldAppends): Promise<ZaqarEngine> {
  const e = createZaqarService({ backend });
  engines.push(e);
  await e.start();
  await e.createQueue(ctx, 'q', {});
  return e;
}

/** Bodies of the posts in a record: one post, or the posts of a batch. */
function postBodies(record: LogEvent): unknown[] {
  const type: string = record.type;
  const events = type === BATCH ? (record as unknown as { events: LogEvent[] }).events : [record];
  return events.flatMap((e) => (e.type === 'post' ? e.messages.map((m) => m.body) : []));
}

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

describe('group commit', () => {
  it('writes the posts made in one turn of the event loop as one record, in order', async () => {
    const backend = new HeldAppends(new MemoryBackend());
    const engine = await engineOn(backend);
    backend.records.length = 0;
    const posted = await Promise.all(Array.from({ length: 8 }, (_, i) => engine.postMessages(ctx, 'q', [{ body: i }])));
    expect(backend.records).toHaveLength(1);
    expect(postBodies(backend.records[0] as LogEvent)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Each post has its own id, and a list returns them in the order they were made.
    expect(new Set(posted.flat()).size).toBe(8);
    const listed = await engine.listMessages(ctx, 'q', { echo: true, limit: 10 });
    expect(listed.messages.map((m) => m.body)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('answers no post before its record is confirmed; posts made meanwhile go in the next record', async () => {
    const backend = new HeldAppends(new MemoryBackend());
    const engine = await engineOn(backend);
    backend.records.length = 0;
    backend.hold = true;
    let answered = 0;
    const first = engine.postMessages(ctx, 'q', [{ body: 'a' }]).then(() => answered++);
    await vi.waitFor(() => expect(backend.heldCount).toBe(1));
    const later = [1, 2, 3].map((i) => engine.postMessages(ctx, 'q', [{ body: i }]).then(() => answered++));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(0);
    expect(backend.records).toHaveLength(1); // the later posts wait for the append in flight
    backend.hold = false;
    backend.release();
    await Promise.all([first, ...later]);
    expect(answered).toBe(4);
    expect(backend.records.map(postBodies)).toEqual([['a'], [1, 2, 3]]);
  });
});
