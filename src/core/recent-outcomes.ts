/**
 * The outcomes of a fold's latest records by request id, so that a record stored twice (a
 * publisher retry after a lost confirm) is applied once. Bounded: past `capacity`, the oldest
 * request id is forgotten first. Every pod folding the same log holds the same window.
 */
export class RecentOutcomes<O> {
  readonly #capacity: number;
  readonly #byRid = new Map<string, O>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(rid: string): O | undefined {
    return this.#byRid.get(rid);
  }

  remember(rid: string, outcome: O): void {
    this.#byRid.set(rid, outcome);
    if (this.#byRid.size > this.#capacity) {
      const oldest = this.#byRid.keys().next();
      if (oldest.done !== true) this.#byRid.delete(oldest.value);
    }
  }

  /** The window, oldest first (for snapshots). */
  entries(): [string, O][] {
    return [...this.#byRid];
  }

  /** Replaces the window (restoring a snapshot). */
  replace(entries: Iterable<readonly [string, O]>): void {
    this.#byRid.clear();
    for (const [rid, outcome] of entries) this.remember(rid, outcome);
  }
}
