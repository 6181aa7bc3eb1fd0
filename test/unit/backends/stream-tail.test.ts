/**
 * StreamTail after the broker cancelled its consumer. The real broker's part, a stream deleted
 * and created again, is in test/integration/stream-replaced.rabbitmq.test.ts. This test
 * covers what one broker cannot easily produce on demand: a cancel on a stream that is still
 * the same log (a replica going away). The tail must then resume exactly, with no gap and no
 * duplicate, and must not take it for a new log. The channel is a stand-in that records the
 * consumer's start offset and hands the tail the deliveries the test chooses.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { StreamTail, VERIFY_PROBE_MS, type TailContext } from '../../../src/backends/rabbitmq/consumer.js';
import type { Diagnostic } from '../../../src/backends/rabbitmq/diagnostics.js';
import type { LogRecord } from '../../../src/core/ports.js';

class FakeChannel {
  start: unknown = undefined;
  #onMessage: ((msg: ConsumeMessage | null) => void) | null = null;
  on(): this {
    return this;
  }
  prefetch(): Promise<void> {
    return Promise.resolve();
  }
  consume(_queue: string, onMessage: (msg: ConsumeMessage | null) => void, options: { arguments: Record<string, unknown> }): Promise<void> {
    this.start = options.arguments['x-stream-offset'];
    this.#onMessage = onMessage;
    return Promise.resolve();
  }
  ack(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
  deliver(offset: number, text: string): void {
    const msg = { content: Buffer.from(eventText(text)), properties: { headers: { 'x-stream-offset': offset } } };
    this.#onMessage?.(msg as unknown as ConsumeMessage);
  }
  cancel(): void {
    this.#onMessage?.(null);
  }
}

function eventText(rid: string): string {
  return JSON.stringify({ type: 'barrier', rid, at: 1 });
}

function setup(lastOffset: () => number | null = () => null) {
  const channels: FakeChannel[] = [];
  const diagnostics: Diagnostic[] = [];
  const got: string[] = [];
  let replaced = 0;
  const ctx: TailContext = {
    openChannel: () => {
      const c = new FakeChannel();
      channels.push(c);
      return Promise.resolve(c as unknown as Channel);
    },
    ensureStream: () => Promise.resolve(),
    checkStream: () => Promise.resolve(),
    lastOffset: () => Promise.resolve(lastOffset()),
    isConnected: () => true,
    report: (d) => diagnostics.push(d),
    prefetch: 10,
    retryDelayMs: 1,
    onClosed: () => undefined,
  };
  const tail = new StreamTail('s', 'first', { onRecord: (r: LogRecord) => got.push(`${r.offset}:${r.event.rid}`), onReplaced: () => replaced++ }, ctx);
  tail.attach();
  const channel = (): FakeChannel => {
    const c = channels.at(-1);
    if (c === undefined) throw new Error('no channel');
    return c;
  };
  return { tail, channels, channel, diagnostics, got, replaced: () => replaced };
}

const settle = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('StreamTail after a cancel', () => {
  it('on the same log: starts at the last record, drops it and what precedes it, and goes on', async () => {
    const t = setup(() => 5);
    await settle();
    for (const [o, rid] of [[0, 'a'], [1, 'b'], [2, 'c']] as const) t.channel().deliver(o, rid);
    t.channel().cancel();
    await settle();
    expect(t.channels).toHaveLength(2);
    expect(t.channel().start).toBe(2); // the last record delivered, not the one after it
    // The broker sends the chunk that holds offset 2, from its start.
    for (const [o, rid] of [[1, 'b'], [2, 'c'], [3, 'd']] as const) t.channel().deliver(o, rid);
    expect(t.got).toEqual(['0:a', '1:b', '2:c', '3:d']);
    // The probe of the log's end (it ends at 5, past 2) does not call it a new log either.
    await settle(VERIFY_PROBE_MS + 100);
    expect(t.replaced()).toBe(0);
    t.tail.close();
  });

  it('takes a different record at the last offset for a new log, and stops', async () => {
    const t = setup();
    await settle();
    t.channel().deliver(0, 'a');
    t.channel().deliver(1, 'b');
    t.channel().cancel();
    await settle();
    t.channel().deliver(0, 'x');
    t.channel().deliver(1, 'y');
    t.channel().deliver(2, 'z');
    expect(t.got).toEqual(['0:a', '1:b']);
    expect(t.replaced()).toBe(1);
    expect(t.diagnostics).toContainEqual({ type: 'stream_replaced', stream: 's', lastOffset: 1 });
  });

  it('takes a log that ends before the last offset, while nothing comes, for a new log', async () => {
    let end: number | null = null; // empty at first: not yet a new log for sure
    const t = setup(() => end);
    await settle();
    for (let o = 0; o < 4; o++) t.channel().deliver(o, `r${o}`);
    t.channel().cancel();
    await settle(VERIFY_PROBE_MS + 100);
    expect(t.replaced()).toBe(0);
    end = 0; // the new log's first record was written
    await settle(VERIFY_PROBE_MS + 100);
    expect(t.replaced()).toBe(1);
    expect(t.got).toEqual(['0:r0', '1:r1', '2:r2', '3:r3']);
  });
});
