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
  /** Called after each applied record (notifications). */
  readonly after?: (event: E, offset: number, outcome: O) => void;
  /** How long a write may wait to read its event back before failing with 503 (ms). */
  readonly readBackTimeoutMs: number;
}

export class FoldedLog<E extends LogEvent, O> {
  readonly #o: FoldedLogOptions<E, O>;
  readonly #pending = new Map<string, Pending<O>>();
  #tail: Tail | undefined;
  #ready: Promise<void> | undefined;

  constructor(options: FoldedLogOptions<E, O>) {
    this.#o = options;
  }

  /** Starts tailing from the oldest record and resolves once caught up with the log's end. */
  open(): Promise<void> {
    this.#ready ??= this.#open();
    return this.#ready;
  }

  async #open(): Promise<void> {
    this.#tail = this.#o.backend.tail(this.#o.log, 'first', { onRecord: (r) => this.#onRecord(r) });
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
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(errors.brokerUnavailable('The write was not confirmed in time.'));
      }, this.#o.readBackTimeoutMs);
      timer.unref?.();
      // Registered before the append: a backend may deliver the record before append resolves.
      this.#pending.set(rid, { resolve, reject, timer });
      this.#o.backend.append(this.#o.log, event).catch((e: unknown) => {
        const p = this.#pending.get(rid);
        if (p === undefined) return;
        clearTimeout(p.timer);
        this.#pending.delete(rid);
        reject(e);
      });
    });
  }

  #onRecord(record: LogRecord): void {
    const event = record.event as E;
    const p = this.#pending.get(event.rid);
    if (p !== undefined) {
      clearTimeout(p.timer);
      this.#pending.delete(event.rid);
    }
    let outcome: O;
    try {
      outcome = this.#o.apply(event, record.offset);
    } catch (e) {
      // A record the fold cannot apply is skipped, never allowed to stop the tail.
      p?.reject(e);
      return;
    }
    p?.resolve(outcome);
    this.#o.after?.(event, record.offset, outcome);
  }

  /** Writes waiting for their read-back. */
  get pendingWrites(): number {
    return this.#pending.size;
  }

  /** Stops tailing; pending writes fail with 503. */
  close(): void {
    this.#tail?.close();
    this.#tail = undefined;
    for (const [rid, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(rid);
      p.reject(errors.brokerUnavailable('The service is shutting down.'));
    }
  }
}
