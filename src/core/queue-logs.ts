/**
 * The queue logs one pod folds: each opened (tailed from its first record and caught up) on
 * first use, brought up to the queue's current incarnation, and closed again when idle. Every
 * post folded is recorded in the queue's replay history and pushed to its listeners.
 */
import { errors, ZaqarError } from './errors.js';
import type { PostedMessage, QueueEvent } from './events.js';
import { FoldedLog, type GroupCommit } from './folded-log.js';
import { PostHistory } from './history.js';
import { queueRecordProblem } from './record-check.js';
import type { Backend, Clock, IdSource } from './ports.js';
import { MAX_MESSAGES_PER_POST, QueueState, SEQ_PER_OFFSET, type QueueOutcome } from './queue-state.js';
import type { Notification, NotificationListener } from './types.js';
import { queueKey } from './catalog-state.js';

/** The fold of one queue log: replaced as a whole when the queue is deleted. */
interface QueueFold {
  readonly state: QueueState;
  readonly log: FoldedLog<QueueEvent, QueueOutcome>;
  readonly history: PostHistory;
  /** Called once the log is caught up: an empty log so far means nothing was posted before. */
  readonly caughtUp: () => void;
}

export interface QueueHandle {
  /** The fold of the queue's current log (a new one after the queue was deleted). */
  readonly state: QueueState;
  readonly log: FoldedLog<QueueEvent, QueueOutcome>;
  readonly history: PostHistory;
  /** Live listeners: they outlive a deletion of the queue, as its subscriptions do. */
  readonly listeners: Set<NotificationListener>;
  /**
   * Counts the folds this handle has had. A new fold reads a new log whose markers start
   * again, so a listener that filters by marker compares only within its own epoch.
   */
  readonly epoch: number;
  /** Clock time of the last use, for idle eviction. */
  lastUsed: number;
}

class Handle implements QueueHandle {
  readonly listeners: Set<NotificationListener>;
  epoch = 0;
  lastUsed: number;
  fold: QueueFold;

  constructor(listeners: Set<NotificationListener>, fold: QueueFold, now: number) {
    this.listeners = listeners;
    this.fold = fold;
    this.lastUsed = now;
  }

  get state(): QueueState {
    return this.fold.state;
  }

  get log(): FoldedLog<QueueEvent, QueueOutcome> {
    return this.fold.log;
  }

  get history(): PostHistory {
    return this.fold.history;
  }
}

export interface QueueLogsOptions {
  readonly backend: Backend;
  readonly ids: IdSource;
  readonly clock: Clock;
  readonly readBackTimeoutMs: number;
  /** Most queue logs folded at once without listeners (see QueueLogs#evictLeastRecent). */
  readonly maxOpen: number;
  /** Recent posts kept per queue for reattach replay. */
  readonly historyCapacity: number;
  /** The queue's current incarnation in the catalogue, or undefined when it does not exist. */
  readonly incarnationOf: (project: string, queue: string) => number | undefined;
  /** Resolves once the catalogue is folded up to its end (see #replaced). */
  readonly catalogCaughtUp: () => Promise<void>;
  /** Told of each record the fold skipped (see record-check.ts). */
  readonly onSkipped?: (project: string, queue: string, offset: number, reason: string) => void;
}

/** Attempts, and the pause between them, to reopen a revived queue's log (see QueueLogs.revive). */
const REVIVE_ATTEMPTS = 5;
const REVIVE_RETRY_MS = 500;

/**
 * Concurrent writes to one queue go as one record while an append is in flight (see
 * FoldedLog's GroupCommit): a post takes as many seq slots as it has messages, and a record
 * holds at most MAX_MESSAGES_PER_POST, so seqs of consecutive records never overlap.
 */
const QUEUE_GROUP_COMMIT: GroupCommit<QueueEvent> = {
  weight: (e) => (e.type === 'post' && Array.isArray(e.messages) ? Math.min(e.messages.length, MAX_MESSAGES_PER_POST) : 0),
  maxWeight: MAX_MESSAGES_PER_POST,
  maxEvents: 128,
};

export class QueueLogs {
  readonly #o: QueueLogsOptions;
  readonly #handles = new Map<string, Handle>();
  #closed = false;

  constructor(options: QueueLogsOptions) {
    this.#o = options;
  }

  /** Number of queue logs currently folded. */
  get size(): number {
    return this.#handles.size;
  }

  has(project: string, queue: string): boolean {
    return this.#handles.has(queueKey(project, queue));
  }

  /** The folded log of a queue, opened and caught up. */
  async open(project: string, queue: string): Promise<QueueHandle> {
    const key = queueKey(project, queue);
    let q = this.#handles.get(key);
    if (q === undefined) {
      if (this.#handles.size >= this.#o.maxOpen) this.#evictLeastRecent(Math.max(1, Math.ceil(this.#o.maxOpen / 10)));
      const listeners = new Set<NotificationListener>();
      q = new Handle(listeners, this.#fold(project, queue, listeners), this.#o.clock());
      this.#handles.set(key, q);
    }
    q.lastUsed = this.#o.clock();
    const fold = q.fold;
    try {
      await fold.log.open();
      fold.caughtUp();
    } catch (e) {
      if (this.#handles.get(key) === q && q.fold === fold && q.listeners.size === 0) this.#handles.delete(key);
      throw e instanceof ZaqarError ? e : errors.brokerUnavailable('The queue could not be opened.', e);
    }
    // The queue was (re)created since its log was last reset: drop what earlier incarnations
    // left (a post that raced a deletion). Any pod may write it; resets only move forward.
    const incarnation = this.#o.incarnationOf(project, queue);
    if (incarnation !== undefined && q.state.incarnation < incarnation) {
      await q.log.write({ type: 'reset', incarnation });
    }
    return q;
  }

  /**
   * The queue was deleted (its log removed from the backend): the fold ends. A handle nobody
   * listens to goes; one with listeners gets a new fold, read from the queue's next log when
   * the queue is used or created again ({@link revive}).
   */
  retire(project: string, queue: string): void {
    const key = queueKey(project, queue);
    const q = this.#handles.get(key);
    if (q === undefined) return;
    q.fold.log.close();
    if (q.listeners.size === 0) {
      this.#handles.delete(key);
      return;
    }
    q.fold = this.#fold(project, queue, q.listeners);
    q.epoch += 1;
  }

  /**
   * The queue was created: listeners that outlived its deletion get its messages again. The
   * log is opened now (and again, a few times, if the broker refuses for a moment: the pod
   * creating the queue may not have created its log yet).
   */
  revive(project: string, queue: string, attempt = 0): void {
    const q = this.#handles.get(queueKey(project, queue));
    if (this.#closed || q === undefined || q.listeners.size === 0 || q.log.opened) return;
    this.open(project, queue).catch(() => {
      if (attempt >= REVIVE_ATTEMPTS) return; // the next use of the queue opens it
      setTimeout(() => this.revive(project, queue, attempt + 1), REVIVE_RETRY_MS).unref();
    });
  }

  /**
   * The queue's log was deleted and created again behind the bridge's back (by an operator),
   * while the queue itself lives on: what the old log held is gone, as it is for a pod that
   * starts now. The fold starts over on the new log, exactly as after a deletion of the queue
   * (listeners stay, in a new marker epoch).
   */
  #replaced(project: string, queue: string, log: FoldedLog<QueueEvent, QueueOutcome>): void {
    const restart = (): void => {
      const q = this.#handles.get(queueKey(project, queue));
      if (this.#closed || q === undefined || q.fold.log !== log) return;
      this.retire(project, queue);
      this.revive(project, queue);
    };
    // First fold the catalogue to its end: the new log may be that of the queue created again
    // after a deletion this pod has not folded yet, and that deletion starts the fold over
    // itself (restarting twice would hand the new log's posts to the listeners twice).
    this.#o.catalogCaughtUp().then(restart, restart);
  }

  /** Closes the logs unused since `horizon` with no listener and no write in flight. */
  evictIdle(horizon: number): number {
    let evicted = 0;
    for (const [key, q] of this.#handles) {
      if (q.lastUsed > horizon || q.listeners.size > 0 || q.log.pendingWrites > 0) continue;
      this.#handles.delete(key);
      q.log.close();
      evicted++;
    }
    return evicted;
  }

  /**
   * Closes up to `n` logs nobody listens to and nothing is written to, least recently used
   * first: a pod folds at most `maxOpen` queues (each holds a broker channel and a reader on
   * the broker) plus the ones with listeners, however many queues the catalogue has.
   */
  #evictLeastRecent(n: number): void {
    const idle = [...this.#handles].filter(([, q]) => q.listeners.size === 0 && q.log.pendingWrites === 0);
    idle.sort((x, y) => x[1].lastUsed - y[1].lastUsed);
    for (const [key, q] of idle.slice(0, n)) {
      this.#handles.delete(key);
      q.log.close();
    }
  }

  close(): void {
    this.#closed = true;
    for (const q of this.#handles.values()) q.log.close();
    this.#handles.clear();
  }

  #fold(project: string, queue: string, listeners: ReadonlySet<NotificationListener>): QueueFold {
    const state = new QueueState();
    const history = new PostHistory(this.#o.historyCapacity);
    let first = true;
    const log = new FoldedLog<QueueEvent, QueueOutcome>({
      backend: this.#o.backend,
      log: { kind: 'queue', project, queue },
      ids: this.#o.ids,
      clock: this.#o.clock,
      apply: (e, offset, slot) => {
        if (first) {
          // Whatever was posted before the first record we read is gone for us.
          first = false;
          history.raiseFloor(offset * SEQ_PER_OFFSET);
        }
        return state.apply(e, offset, slot);
      },
      groupCommit: QUEUE_GROUP_COMMIT,
      after: (e, _offset, outcome) => {
        if (e.type === 'post' && outcome.type === 'posted') {
          publish(project, queue, e.at, e.messages, outcome, history, listeners);
        } else if (e.type === 'purge' && e.all) {
          history.clear(state.lastSeq); // the queue was deleted: its posts are not replayed
        }
      },
      readBackTimeoutMs: this.#o.readBackTimeoutMs,
      check: queueRecordProblem,
      onSkipped: (offset, reason) => this.#o.onSkipped?.(project, queue, offset, reason),
      onReplaced: () => this.#replaced(project, queue, log),
    });
    // Caught up with a log that had no record: the first record read later is the queue's
    // first ever, so nothing before it is missing (the embedded backend's offsets start from
    // the wall clock, so that record's offset says nothing about what came before).
    const caughtUp = (): void => {
      first = false;
    };
    return { state, log, history, caughtUp };
  }
}

/** Records each newly stored message of a post and pushes it to the listeners, in log order. */
function publish(
  project: string,
  queue: string,
  at: number,
  messages: readonly PostedMessage[],
  outcome: { readonly ids: readonly string[]; readonly seqs: readonly number[] },
  history: PostHistory,
  listeners: ReadonlySet<NotificationListener>,
): void {
  if (outcome.seqs.length === 0) return; // a redelivered post: already published
  const byId = new Map(messages.map((m) => [m.id, m]));
  outcome.ids.forEach((id, i) => {
    const m = byId.get(id);
    const seq = outcome.seqs[i];
    if (m === undefined || seq === undefined) return;
    const n: Notification = { project, queue, messageId: id, marker: String(seq), ttl: m.ttl, body: m.body };
    history.push({ seq, expiresAt: at + m.ttl * 1000, notification: n });
    for (const l of listeners) {
      try {
        l(n);
      } catch {
        // One listener's failure must never stall the fan-out to the others.
      }
    }
  });
}
