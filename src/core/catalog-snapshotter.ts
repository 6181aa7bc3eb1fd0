/**
 * When and how a pod snapshots the catalogue, and how it starts from the newest snapshot (see
 * "Catalogue snapshots" in docs/architecture.md). The engine owns the catalogue's fold; this
 * class restores it, watches what is folded, and writes snapshots per {@link CatalogSnapshotPolicy}.
 */
import type { CatalogOutcome } from './catalog-outcome.js';
import type { CatalogState } from './catalog-state.js';
import type { CatalogEvent } from './events.js';
import type { FoldedLog } from './folded-log.js';
import type { Backend, Clock } from './ports.js';

/**
 * When a pod snapshots the catalogue. Each pod checks on a timer and writes a snapshot when the
 * catalogue has moved on by `records` offsets of changes (records other than barriers) since the
 * newest snapshot it knows of (restored or written), or by any change and that snapshot is
 * older than `maxAgeMs`; at boot when it folded changes that no snapshot covers; and once more
 * when it closes gracefully. Snapshots let the catalogue stream have a retention.
 */
export interface CatalogSnapshotPolicy {
  /** Offsets of catalogue changes since the last known snapshot that call for a new one. 0 disables snapshots. */
  readonly records: number;
  /** Age (ms) after which any new change calls for a new snapshot. */
  readonly maxAgeMs: number;
  /** How often the policy is checked (ms). */
  readonly checkEveryMs: number;
}

export const DEFAULT_CATALOG_SNAPSHOTS: CatalogSnapshotPolicy = {
  records: 1000,
  maxAgeMs: 6 * 3600_000,
  checkEveryMs: 60_000,
};

/** What the core reports of its own work. */
export type CoreDiagnostic =
  | { readonly type: 'catalog_restored'; readonly offset: number; readonly queues: number; readonly subscriptions: number }
  | { readonly type: 'catalog_snapshot_invalid'; readonly offset: number }
  | { readonly type: 'catalog_snapshot_written'; readonly offset: number }
  | { readonly type: 'catalog_snapshot_failed'; readonly cause: string }
  /** Catalogue records the state needs were removed from the head of the log: the catalogue may be incomplete. */
  | { readonly type: 'catalog_head_missing'; readonly expected: number; readonly first: number }
  /** A record no reader could use was skipped by the fold (see record-check.ts). */
  | { readonly type: 'record_skipped'; readonly log: 'catalog' | 'queue'; readonly project?: string; readonly queue?: string; readonly offset: number; readonly reason: string };

/** How long the snapshot written at close may take (ms): a hung broker must not eat the shutdown deadline. */
const CLOSING_SNAPSHOT_MS = 2_000;

export interface CatalogSnapshotterOptions {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly policy: CatalogSnapshotPolicy;
  readonly state: CatalogState;
  /** The catalogue log, once built (the log's `restore` option calls back into this class). */
  readonly log: () => FoldedLog<CatalogEvent, CatalogOutcome>;
  readonly report: (d: CoreDiagnostic) => void;
}

export class CatalogSnapshotter {
  readonly #o: CatalogSnapshotterOptions;
  #timer: NodeJS.Timeout | undefined;
  /** The newest snapshot this pod knows of: its offset (-1: none) and when it learnt of it. */
  #known = { offset: -1, at: 0 };
  #writing: Promise<number | null> | undefined;
  #restoredOffset: number | null = null;
  #recordsFolded = 0;
  /** Offset of the last catalogue record that was not a barrier (-1: none). */
  #lastChange = -1;

  constructor(options: CatalogSnapshotterOptions) {
    this.#o = options;
  }

  /** Where this pod's catalogue came from. */
  get origin(): { restoredOffset: number | null; recordsFolded: number } {
    return { restoredOffset: this.#restoredOffset, recordsFolded: this.#recordsFolded };
  }

  /** Called for every catalogue record folded, before it is applied. */
  folded(event: CatalogEvent, offset: number): void {
    this.#recordsFolded += 1;
    if (event.type !== 'barrier') this.#lastChange = offset;
  }

  /** Restores the newest snapshot, if any; resolves with the offset it covers (the log tails from the next one). */
  async restore(): Promise<number | null> {
    const snapshot = await this.#o.backend.loadCatalogSnapshot();
    if (snapshot === null) return null;
    if (!this.#o.state.restore(snapshot.state)) {
      this.#o.report({ type: 'catalog_snapshot_invalid', offset: snapshot.offset });
      return null;
    }
    this.#restoredOffset = snapshot.offset;
    const { queues, subscriptions } = this.#o.state.size;
    this.#o.report({ type: 'catalog_restored', offset: snapshot.offset, queues, subscriptions });
    return snapshot.offset;
  }

  /** The catalogue has caught up: starts the policy. */
  start(): void {
    this.#known = { offset: this.#restoredOffset ?? -1, at: this.#o.clock() };
    if (this.#o.policy.records <= 0) return;
    // Others changed the catalogue before us and no snapshot covers it: write one now rather
    // than leave the whole log needed until the policy fires.
    if (this.#restoredOffset === null && this.#lastChange >= 0) void this.write().catch(() => null);
    this.#timer = setInterval(() => void this.#writeIfDue(), this.#o.policy.checkEveryMs);
    this.#timer.unref();
  }

  /**
   * Stops the policy and writes a last snapshot covering everything folded (after the one in
   * flight, if any, which covers less), for at most {@link CLOSING_SNAPSHOT_MS}.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#o.policy.records <= 0 || this.#o.backend.status().type !== 'up') return;
    const last = (async () => {
      await this.#writing?.catch(() => null);
      await this.write();
    })().catch(() => null);
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), CLOSING_SNAPSHOT_MS);
    });
    await Promise.race([last, giveUp]);
    clearTimeout(timer);
  }

  /**
   * Writes a snapshot of the catalogue as folded now, unless the newest one this pod knows of
   * covers it; resolves with the offset it covers, or null. One at a time; the state and its
   * offset are taken in one synchronous step.
   */
  write(): Promise<number | null> {
    this.#writing ??= (async () => {
      const offset = this.#o.log().lastOffset;
      if (offset <= this.#known.offset) return null;
      try {
        const state = this.#o.state.snapshot();
        await this.#o.backend.saveCatalogSnapshot({ offset, state });
      } catch (e) {
        this.#o.report({ type: 'catalog_snapshot_failed', cause: e instanceof Error ? e.message : String(e) });
        throw e;
      }
      this.#known = { offset, at: this.#o.clock() };
      this.#o.report({ type: 'catalog_snapshot_written', offset });
      return offset;
    })().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #writeIfDue(): Promise<void> {
    // Barriers (a pod's start, its catch-ups before negative answers) change nothing a snapshot holds.
    const changes = this.#lastChange - this.#known.offset;
    if (changes <= 0) return;
    const old = this.#o.clock() - this.#known.at >= this.#o.policy.maxAgeMs;
    if (changes < this.#o.policy.records && !old) return;
    if (this.#o.backend.status().type !== 'up') return;
    await this.write().catch(() => null);
  }
}
