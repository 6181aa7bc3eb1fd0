/**
 * The recent posts of one queue, kept by every pod that folds the queue's log, so that a
 * reattaching client can be replayed what it missed without reading the broker again (a
 * reconnect storm costs no broker reads). Bounded by a count and by each message's ttl.
 */
import type { Notification } from './types.js';

export interface HistoryEntry {
  readonly seq: number;
  /** ms since the epoch after which the message has expired. */
  readonly expiresAt: number;
  readonly notification: Notification;
}

/** What a replay from a marker found. */
export interface Replay {
  readonly entries: readonly Notification[];
  /** True when messages after the marker were already removed (retention, ttl or the cap). */
  readonly gap: boolean;
}

export class PostHistory {
  readonly #capacity: number;
  #entries: HistoryEntry[] = [];
  #head = 0;
  /**
   * Every message with a seq ≤ floor may be gone: evicted by the cap or ttl, or trimmed from
   * the log before this pod read it.
   */
  #floor = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The sequence number before which this pod holds nothing (0 until a floor is known). */
  get floor(): number {
    return this.#floor;
  }

  /** Messages before `seq` were never seen by this pod (the log's retained head starts there). */
  raiseFloor(seq: number): void {
    if (seq > this.#floor) this.#floor = seq;
  }

  /** Forgets everything up to `seq` (the queue was deleted): replaying older markers is a gap. */
  clear(seq: number): void {
    this.raiseFloor(seq);
    this.#entries = [];
    this.#head = 0;
  }

  push(entry: HistoryEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length - this.#head > this.#capacity) this.#evictHead();
  }

  /**
   * Entries after `afterSeq` still alive at `now`, in log order. `afterSeq` of -1 means
   * "everything still held" (never a gap).
   */
  replay(afterSeq: number, now: number): Replay {
    this.#dropExpiredHead(now);
    let gap = afterSeq >= 0 && afterSeq < this.#floor;
    const entries: Notification[] = [];
    for (let i = this.#firstIndexAfter(afterSeq); i < this.#entries.length; i++) {
      const e = this.#entries[i];
      if (e === undefined) continue;
      if (e.expiresAt <= now) {
        if (afterSeq >= 0) gap = true;
        continue;
      }
      entries.push(e.notification);
    }
    return { entries, gap };
  }

  #dropExpiredHead(now: number): void {
    while (this.#head < this.#entries.length && (this.#entries[this.#head]?.expiresAt ?? Infinity) <= now) {
      this.#evictHead();
    }
  }

  #evictHead(): void {
    const e = this.#entries[this.#head++];
    if (e !== undefined) this.raiseFloor(e.seq);
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  #firstIndexAfter(afterSeq: number): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#entries[mid]?.seq ?? Infinity) <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
