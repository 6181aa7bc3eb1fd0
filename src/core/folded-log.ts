/**
 * One log of the backend, tailed and folded into local state, with read-your-writes: a
 * write resolves with the fold's decision once this process has read its own event back.
 * The same class serves the catalogue and every queue log, on every backend.
 */
import { errors } from './errors.js';
import type { LogEvent, Unstamped } from './events.js';
import type { Backend, IdSource, LogRecord, LogRef, Tail } from './ports.js';

interface Pending<O> {
  resolve(outcome: O): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
  /** The backend confirmed the append that carried the event. */
  appended: boolean;
  /** What the fold decided, once the event was read back. */
  folded: { readonly outcome: O } | null;
}

/**
 * Group commit (queue logs): while one append of the log is in flight, further writes wait
 * and then go together as one `batch` record, `{type: 'batch', rid, at, events: [...]}`, whose
 * events the fold applies in order as if each were a record of its own at the batch's offset.
 * One broker write, confirm and delivery to every pod then carries many requests.
 */
export interface GroupCommit<E> {
  /**
   * How many of the record's sequence slots an event takes (a post: its messages). The fold
   * gives each event of a batch the slots after the ones before it (see `apply`'s `slot`).
   */
  readonly weight: (event: E) => number;
  /** Most slots one record may hold; a batch never holds more. */
  readonly maxWeight: number;
  /** Most events in one batch. */
  readonly maxEvents: number;
}

/** The type of a group-commit record. */
export const BATCH = 'batch';

export interface FoldedLogOptions<E extends LogEvent, O> {
  readonly backend: Backend;
  readonly log: LogRef;
  readonly ids: IdSource;
  readonly clock: () => number;
  /**
   * Applies one record to the state; returns the decision for the writer. `slot` is 0 for an
   * event that is a record of its own, and the weight of the events before it in a batch.
   */
  readonly apply: (event: E, offset: number, slot: number) => O;
  /** Batches concurrent writes (see {@link GroupCommit}); off when absent. */
  readonly groupCommit?: GroupCommit<E>;
  /**
   * Why a record cannot be applied (see record-check.ts), or null. A record with a problem,
   * or one whose `apply` or `after` throws, is skipped and reported to {@link onSkipped}:
   * nothing in a log may stop the tail or reach the readers in a shape they cannot render.
   */
  readonly check?: (event: unknown) => string | null;
  readonly onSkipped?: (offset: number, reason: string) => void;
  /**
   * The backend found the log replaced under the tail (see TailHandler.onReplaced): the tail
   * has stopped, and the owner starts over with a new FoldedLog. Without it the tail reads on.
   */
  readonly onReplaced?: () => void;
  /** Called after each applied record (notifications). */
  readonly after?: (event: E, offset: number, outcome: O) => void;
  /** How long a write may wait to read its event back before failing with 503 (ms). */
  readonly readBackTimeoutMs: number;
  /**
   * Restores the state from a snapshot before the tail starts; resolves with the offset of the
   * last record the restored state includes (the tail starts after it), or null to fold the
   * log from its oldest record.
   */
  readonly restore?: () => Promise<number | null>;
  /**
   * Told when records the state depends on were removed from the head of the log (by retention,
   * before any snapshot covered them): the first record read is past the one folding needed, and
   * the backend confirms that its oldest record is (offsets may skip without anything removed:
   * RabbitMQ spends an offset on each new segment).
   */
  readonly onHeadMissing?: (expected: number, first: number) => void;
}

export class FoldedLog<E extends LogEvent, O> {
  readonly #o: FoldedLogOptions<E, O>;
  /**
   * Writes waiting for their record, by rid. Several writes may share a rid (a producer that
   * republishes one message id): each has its own waiter, and only its own timer or failure
   * removes it.
   */
  readonly #pending = new Map<string, Set<Pending<O>>>();
  #tail: Tail | undefined;
  #ready: Promise<void> | undefined;
  /** Offset of the last record applied (or restored from a snapshot); -1 before any. */
  #lastOffset = -1;
  /** Offset the next record should have, checked once on the first record read. */
  #expectFirst: number | null = null;
  /** The barrier of {@link sync} not yet appended, shared by its callers. */
  #sync: Promise<void> | undefined;
  /** Appends in flight (at most one with group commit). */
  #inFlight = 0;
  /** Writes waiting for the append in flight to settle (group commit). */
  #waiting: { readonly event: E; readonly waiter: Pending<O> }[] = [];
  /** A flush is scheduled for the end of this turn (`#flushSoon`). */
  #flushScheduled = false;

  constructor(options: FoldedLogOptions<E, O>) {
    this.#o = options;
  }

  /** Starts tailing from the oldest record and resolves once caught up with the log's end. */
  open(): Promise<void> {
    this.#ready ??= this.#open();
    return this.#ready;
  }

  async #open(): Promise<void> {
    let restored: number | null = null;
    try {
      restored = (await this.#o.restore?.()) ?? null;
    } catch (e) {
      this.#ready = undefined;
      throw e;
    }
    // A reopened log keeps what it folded before; a snapshot replaces the state wholesale.
    if (restored !== null) this.#lastOffset = restored;
    const from = this.#lastOffset + 1;
    this.#expectFirst = from;
    const start = from === 0 ? 'first' : { offset: from };
    const { onReplaced } = this.#o;
    this.#tail = this.#o.backend.tail(this.#o.log, start, {
      onRecord: (r) => this.#onRecord(r),
      ...(onReplaced === undefined ? {} : { onReplaced }),
    });
    try {
      // Everything before our barrier has been folded once we read the barrier back.
      await this.write({ type: 'barrier' } as Unstamped<E>);
    } catch (e) {
      this.close();
      this.#ready = undefined;
      throw e;
    }
  }

  /**
   * Appends an event (the writer's rid and time are stamped here) and resolves with what the
   * fold decided for it. A caller-given `requestId` makes a retried write idempotent (the fold
   * drops a second post with the same rid). Rejects with 503 when the backend refuses or the read-back times out.
   */
  write(partial: Unstamped<E>, requestId?: string): Promise<O> {
    const rid = requestId ?? this.#o.ids();
    const event = { ...partial, rid, at: this.#o.clock() } as E;
    return new Promise<O>((resolve, reject) => {
      const waiter: Pending<O> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#forget(rid, waiter);
          reject(errors.brokerUnavailable('The write was not confirmed in time.'));
        }, this.#o.readBackTimeoutMs),
        appended: false,
        folded: null,
      };
      waiter.timer.unref?.();
      // Registered before the append: a backend may deliver the record before append resolves.
      let waiters = this.#pending.get(rid);
      if (waiters === undefined) {
        waiters = new Set();
        this.#pending.set(rid, waiters);
      }
      waiters.add(waiter);
      if (this.#o.groupCommit === undefined) {
        this.#append([{ event, waiter }]);
        return;
      }
      this.#waiting.push({ event, waiter });
      this.#flushSoon();
    });
  }

  /** Appends one record: the event itself, or a batch of several. */
  #append(items: readonly { readonly event: E; readonly waiter: Pending<O> }[]): void {
    const only = items.length === 1 ? items[0] : undefined;
    const record =
      only !== undefined ? only.event : ({ type: BATCH, rid: this.#o.ids(), at: this.#o.clock(), events: items.map((i) => i.event) } as unknown as E);
    this.#inFlight += 1;
    this.#o.backend.append(this.#o.log, record).then(
      () => {
        for (const { waiter } of items) {
          waiter.appended = true;
          if (waiter.folded !== null) this.#settle(waiter, waiter.folded.outcome);
        }
      },
      (e: unknown) => {
        for (const { event, waiter } of items) {
          // Read back already but not confirmed: not acknowledged either (the confirm is the rule).
          if (waiter.folded === null && !this.#forget(event.rid, waiter)) continue;
          clearTimeout(waiter.timer);
          waiter.reject(e);
        }
      },
    ).finally(() => {
      this.#inFlight -= 1;
      this.#flushSoon();
    });
  }

  /**
   * Flushes once the current turn of the event loop has run its I/O callbacks: the writes of
   * every request read in that turn (and of any that arrived while the append was in flight)
   * go to the broker as one record, where flushing at once would send the first alone.
   */
  #flushSoon(): void {
    if (this.#flushScheduled || this.#inFlight > 0 || this.#waiting.length === 0) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Sends the writes that waited for the append in flight, as few records as the limits allow. */
  #flush(): void {
    const gc = this.#o.groupCommit;
    while (gc !== undefined && this.#inFlight === 0 && this.#waiting.length > 0) {
      let weight = 0;
      let n = 0;
      for (const { event } of this.#waiting) {
        const w = gc.weight(event);
        if (n > 0 && (n >= gc.maxEvents || weight + w > gc.maxWeight)) break;
        weight += w;
        n += 1;
      }
      this.#append(this.#waiting.splice(0, n));
    }
  }

  #settle(waiter: Pending<O>, outcome: O): void {
    clearTimeout(waiter.timer);
    waiter.resolve(outcome);
  }

  /** Removes one waiter; false when it was already settled. */
  #forget(rid: string, waiter: Pending<O>): boolean {
    const waiters = this.#pending.get(rid);
    if (waiters?.delete(waiter) !== true) return false;
    if (waiters.size === 0) this.#pending.delete(rid);
    return true;
  }

  /**
   * Resolves once everything appended to the log before the call is folded here (a barrier is
   * written and read back). For a negative answer that another pod's write may have just made
   * wrong. Calls made before the barrier is appended share it: one barrier per turn of the
   * event loop, however many requests miss at once.
   */
  sync(): Promise<void> {
    this.#sync ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.#sync = undefined;
      await this.write({ type: 'barrier' } as Unstamped<E>);
    });
    return this.#sync;
  }

  /** True once {@link open} was called (and not failed). */
  get opened(): boolean {
    return this.#ready !== undefined;
  }

  /** Offset of the last record folded into the state (-1 before any). */
  get lastOffset(): number {
    return this.#lastOffset;
  }

  #onRecord(record: LogRecord): void {
    if (record.offset <= this.#lastOffset) return; // already in the state (restored from a snapshot)
    if (this.#expectFirst !== null) {
      if (record.offset > this.#expectFirst) this.#checkHead(this.#expectFirst);
      this.#expectFirst = null;
    }
    this.#lastOffset = record.offset;
    const gc = this.#o.groupCommit;
    const type: string = record.event.type;
    if (gc === undefined || type !== BATCH) {
      this.#applyOne(record.event, record.offset, 0);
      return;
    }
    const batch: unknown = (record.event as unknown as { events?: unknown }).events;
    if (!Array.isArray(batch)) {
      this.#skipped(record.offset, 'batch: events is not a list');
      return;
    }
    let slot = 0;
    for (const [i, event] of batch.entries()) {
      const e = event as { type?: unknown } | null;
      if (typeof e !== 'object' || e === null || e.type === BATCH) {
        this.#skipped(record.offset, `batch: event ${i} is not an event`);
        continue;
      }
      const problem = this.#o.check?.(event) ?? null;
      if (problem !== null) {
        this.#skipped(record.offset, `batch: event ${i}: ${problem}`);
        continue;
      }
      const w = gc.weight(event as E);
      if (slot + w > gc.maxWeight) {
        this.#skipped(record.offset, `batch: event ${i} does not fit in the record's ${gc.maxWeight} slots`);
        continue;
      }
      this.#applyOne(event as LogEvent, record.offset, slot, true);
      slot += w;
    }
  }

  /** Applies one event read from the log (a record, or one event of a batch) and answers its writers. */
  #applyOne(raw: LogEvent, offset: number, slot: number, checked = false): void {
    const problem = checked ? null : (this.#o.check?.(raw) ?? null);
    if (problem !== null) {
      this.#skipped(offset, problem);
      return; // its rid (if any) is not trusted: a writer waiting for it times out with 503
    }
    const event = raw as E;
    const waiters = this.#pending.get(event.rid) ?? new Set<Pending<O>>();
    this.#pending.delete(event.rid);
    let outcome: O;
    try {
      outcome = this.#o.apply(event, offset, slot);
    } catch (e) {
      // A record the fold cannot apply is skipped, never allowed to stop the tail.
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(e);
      }
      this.#skipped(offset, `the fold refused it: ${String(e)}`);
      return;
    }
    for (const w of waiters) {
      if (w.appended) this.#settle(w, outcome);
      else w.folded = { outcome }; // answered once the backend confirms the append
    }
    try {
      this.#o.after?.(event, offset, outcome);
    } catch (e) {
      this.#skipped(offset, `its notification failed: ${String(e)}`);
    }
  }

  #skipped(offset: number, reason: string): void {
    try {
      this.#o.onSkipped?.(offset, reason);
    } catch {
      // A faulty listener must not stop the tail.
    }
  }

  #checkHead(expected: number): void {
    const report = this.#o.onHeadMissing;
    if (report === undefined) return;
    this.#o.backend.firstOffset(this.#o.log).then(
      (first) => {
        if (first !== null && first > expected) report(expected, first);
      },
      () => undefined, // the broker went away: the next start checks again
    );
  }

  /** Writes waiting for their read-back. */
  get pendingWrites(): number {
    let n = 0;
    for (const waiters of this.#pending.values()) n += waiters.size;
    return n;
  }

  /** Stops tailing; pending writes fail with 503. */
  close(): void {
    this.#tail?.close();
    this.#tail = undefined;
    const waiters = [...this.#pending.values()].flatMap((set) => [...set]);
    this.#pending.clear();
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(errors.brokerUnavailable('The service is shutting down.'));
    }
  }
}
