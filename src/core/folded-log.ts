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
}

export interface FoldedLogOptions<E extends LogEvent, O> {
  readonly backend: Backend;
  readonly log: LogRef;
  readonly ids: IdSource;
  readonly clock: () => number;
  /** Applies one record to the state; returns the decision for the writer. */
  readonly apply: (event: E, offset: number) => O;
  /**
   * Why a record cannot be applied (see record-check.ts), or null. A record with a problem,
   * or one whose `apply` or `after` throws, is skipped and reported to {@link onSkipped}:
   * nothing in a log may stop the tail or reach the readers in a shape they cannot render.
   */
  readonly check?: (event: unknown) => string | null;
  readonly onSkipped?: (offset: number, reason: string) => void;
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
    this.#tail = this.#o.backend.tail(this.#o.log, start, { onRecord: (r) => this.#onRecord(r) });
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
      };
      waiter.timer.unref?.();
      // Registered before the append: a backend may deliver the record before append resolves.
      let waiters = this.#pending.get(rid);
      if (waiters === undefined) {
        waiters = new Set();
        this.#pending.set(rid, waiters);
      }
      waiters.add(waiter);
      this.#o.backend.append(this.#o.log, event).catch((e: unknown) => {
        if (!this.#forget(rid, waiter)) return;
        clearTimeout(waiter.timer);
        reject(e);
      });
    });
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
    const problem = this.#o.check?.(record.event) ?? null;
    if (problem !== null) {
      this.#skipped(record.offset, problem);
      return; // its rid (if any) is not trusted: a writer waiting for it times out with 503
    }
    const event = record.event as E;
    const waiters = this.#pending.get(event.rid) ?? new Set<Pending<O>>();
    this.#pending.delete(event.rid);
    for (const w of waiters) clearTimeout(w.timer);
    let outcome: O;
    try {
      outcome = this.#o.apply(event, record.offset);
    } catch (e) {
      // A record the fold cannot apply is skipped, never allowed to stop the tail.
      for (const w of waiters) w.reject(e);
      this.#skipped(record.offset, `the fold refused it: ${String(e)}`);
      return;
    }
    for (const w of waiters) w.resolve(outcome);
    try {
      this.#o.after?.(event, record.offset, outcome);
    } catch (e) {
      this.#skipped(record.offset, `its notification failed: ${String(e)}`);
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
