/**
 * The events this pod is writing, kept until its own tail reads them back, so the read-back
 * does not parse again the JSON it has just serialized. A record is taken only when the bytes
 * read back are exactly the bytes written (the `x-zaqar-rid` header finds the candidate), so
 * the event handed to the fold is the one those bytes encode: the same object the writer built,
 * as the embedded backend hands its tails. Other pods parse the bytes as before.
 *
 * Bounded: an append whose record this pod never reads back (its tail closed, or the write
 * failed after the publish) is dropped with the oldest once {@link OWN_RECORDS_MAX} are held.
 */
import type { ConsumeMessage } from 'amqplib';
import type { LogEvent } from '../../core/events.js';

/** Writes remembered at most; past it the oldest is forgotten (and parsed on read-back). */
export const OWN_RECORDS_MAX = 4096;

export const RID_HEADER = 'x-zaqar-rid';

export class OwnRecords {
  /** rid → the newest write under it (a second write with the same rid replaces the first). */
  readonly #byRid = new Map<string, { readonly content: Buffer; readonly event: LogEvent }>();

  get size(): number {
    return this.#byRid.size;
  }

  remember(rid: string, content: Buffer, event: LogEvent): void {
    this.#byRid.delete(rid); // re-inserted last, so the bound drops the oldest
    this.#byRid.set(rid, { content, event });
    if (this.#byRid.size > OWN_RECORDS_MAX) {
      const oldest = this.#byRid.keys().next();
      if (oldest.done !== true) this.#byRid.delete(oldest.value);
    }
  }

  /** Forgets a write that failed (only if it is still the one remembered under its rid). */
  forget(rid: string, content: Buffer): void {
    if (this.#byRid.get(rid)?.content === content) this.#byRid.delete(rid);
  }

  /** The event of a delivery whose bytes are one of this pod's writes, or undefined. */
  take(msg: ConsumeMessage): LogEvent | undefined {
    const headers: unknown = msg.properties.headers;
    if (typeof headers !== 'object' || headers === null) return undefined;
    const rid: unknown = (headers as Record<string, unknown>)[RID_HEADER];
    if (typeof rid !== 'string') return undefined;
    const own = this.#byRid.get(rid);
    if (own === undefined || !own.content.equals(msg.content)) return undefined;
    this.#byRid.delete(rid);
    return own.event;
  }
}
