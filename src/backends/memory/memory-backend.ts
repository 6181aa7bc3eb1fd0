/**
 * The embedded backend: logs held in this process's memory. The default, so that
 * `npm start` works with no configuration; one process only (nothing is shared or durable
 * beyond the process).
 */
import type { Backend, BackendStatus, LogRecord, LogRef, LogSnapshot, Tail, TailHandler, TailStart } from '../../core/ports.js';
import type { Json } from '../../core/types.js';
import type { LogEvent } from '../../core/events.js';

export interface MemoryBackendOptions {
  /** Records older than this are dropped from the head of each log (ms). Default 15 days. */
  readonly retentionMs?: number;
  /** Time source for retention (ms since the epoch). */
  readonly clock?: () => number;
  /**
   * Offset of the first record of every queue log. Default: 10 ms units of wall time since
   * 2026-01-01, so a restarted process hands out markers above every marker of the runs before
   * it (unless one queue averaged more than 100 records a second over a whole earlier run): a
   * client that reattaches with a marker from before a restart is told of the gap and replayed
   * what the new run holds, instead of colliding with new markers. Fits markers (offset ×
   * 100,000) in a safe integer until 2054.
   */
  readonly firstQueueOffset?: number;
}

/** 2026-01-01T00:00:00Z: the origin of the default first queue offset. */
const OFFSET_EPOCH_MS = Date.UTC(2026, 0, 1);
const OFFSET_UNIT_MS = 10;

interface MemoryLog {
  /** Records in offset order; `records[i].offset === base + i`. */
  records: LogRecord[];
  base: number;
  readonly tails: Set<MemoryTail>;
}

const DEFAULT_RETENTION_MS = 15 * 24 * 3600 * 1000;
/** Retention is enforced at most once per this many appends to a log. */
const TRIM_EVERY = 1024;

export class MemoryBackend implements Backend {
  readonly name = 'memory';
  readonly #logs = new Map<string, MemoryLog>();
  readonly #retentionMs: number;
  readonly #clock: () => number;
  /** The first queue offset given in the options, or null for one derived from the wall clock. */
  readonly #fixedQueueOffset: number | null;
  readonly #listeners = new Set<(s: BackendStatus) => void>();
  #closed = false;
  #appends = 0;
  /** The newest catalogue snapshot, kept as JSON text so nobody shares its objects. */
  #catalogSnapshot: { readonly offset: number; readonly text: string } | null = null;

  constructor(options: MemoryBackendOptions = {}) {
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#clock = options.clock ?? Date.now;
    this.#fixedQueueOffset = options.firstQueueOffset ?? null;
  }

  async start(): Promise<void> {
    // Nothing to connect to.
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const log of this.#logs.values()) for (const t of log.tails) t.close();
    this.#listeners.clear();
  }

  async append(ref: LogRef, event: LogEvent): Promise<void> {
    if (this.#closed) throw new Error('memory backend is closed');
    const log = this.#log(ref);
    log.records.push({ offset: log.base + log.records.length, event });
    if (++this.#appends % TRIM_EVERY === 0) this.#trim(log);
    for (const t of log.tails) t.wake();
  }

  tail(ref: LogRef, start: TailStart, handler: TailHandler): Tail {
    const log = this.#log(ref);
    const end = log.base + log.records.length;
    const from = start === 'first' ? log.base : start === 'next' ? end : Math.max(start.offset, log.base);
    const t = new MemoryTail(log, from, handler);
    log.tails.add(t);
    t.wake();
    return t;
  }

  async firstOffset(ref: LogRef): Promise<number | null> {
    const log = this.#logs.get(logKey(ref));
    return log === undefined || log.records.length === 0 ? null : log.base;
  }

  async deleteLog(ref: LogRef & { readonly kind: 'queue' }): Promise<void> {
    if (this.#closed) throw new Error('memory backend is closed');
    const key = logKey(ref);
    const log = this.#logs.get(key);
    if (log === undefined) return;
    this.#logs.delete(key);
    log.records = []; // its tails read nothing more
  }

  async saveCatalogSnapshot(snapshot: LogSnapshot): Promise<void> {
    if (this.#closed) throw new Error('memory backend is closed');
    if (this.#catalogSnapshot !== null && this.#catalogSnapshot.offset >= snapshot.offset) return;
    this.#catalogSnapshot = { offset: snapshot.offset, text: JSON.stringify(snapshot.state) };
  }

  async loadCatalogSnapshot(): Promise<LogSnapshot | null> {
    const s = this.#catalogSnapshot;
    return s === null ? null : { offset: s.offset, state: JSON.parse(s.text) as Json };
  }

  status(): BackendStatus {
    return this.#closed ? { type: 'down' } : { type: 'up' };
  }

  onStatus(listener: (status: BackendStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #log(ref: LogRef): MemoryLog {
    const key = logKey(ref);
    let log = this.#logs.get(key);
    if (log === undefined) {
      log = { records: [], base: ref.kind === 'queue' ? this.#firstQueueOffset() : 0, tails: new Set() };
      this.#logs.set(key, log);
    }
    return log;
  }

  /**
   * Where a new queue log starts: read from the wall clock when the log is created, so that a
   * queue deleted and created again (or a restarted process) hands out markers above the old
   * ones (see {@link MemoryBackendOptions.firstQueueOffset}).
   */
  #firstQueueOffset(): number {
    return this.#fixedQueueOffset ?? Math.max(0, Math.floor((Date.now() - OFFSET_EPOCH_MS) / OFFSET_UNIT_MS));
  }

  /** Drops records older than the retention window (like a stream's `x-max-age`). */
  #trim(log: MemoryLog): void {
    const horizon = this.#clock() - this.#retentionMs;
    let drop = 0;
    while (drop < log.records.length && (log.records[drop]?.event.at ?? Infinity) < horizon) drop++;
    if (drop === 0) return;
    log.records = log.records.slice(drop);
    log.base += drop;
  }
}

/** Delivers a log's records to one handler, in order, asynchronously (never inside append). */
class MemoryTail implements Tail {
  readonly #log: MemoryLog;
  readonly #handler: TailHandler;
  #next: number;
  #scheduled = false;
  #closed = false;

  constructor(log: MemoryLog, from: number, handler: TailHandler) {
    this.#log = log;
    this.#next = from;
    this.#handler = handler;
  }

  wake(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    this.#scheduled = false;
    const log = this.#log;
    if (this.#next < log.base) this.#next = log.base; // retention removed what we had not read
    while (!this.#closed && this.#next < log.base + log.records.length) {
      const record = log.records[this.#next - log.base];
      this.#next++;
      if (record !== undefined) this.#handler.onRecord(record);
    }
  }

  close(): void {
    this.#closed = true;
    this.#log.tails.delete(this);
  }
}

function logKey(ref: LogRef): string {
  return ref.kind === 'catalog' ? 'catalog' : `q\u0000${ref.project}\u0000${ref.queue}`;
}
