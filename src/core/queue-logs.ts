/**
 * The queue logs one pod folds: each opened (tailed from its first record and caught up) on
 * first use, brought up to the queue's current incarnation, and closed again when idle. Every
 * post folded is recorded in the queue's replay history and pushed to its listeners.
 */
import { errors, ZaqarError } from './errors.js';
import type { PostedMessage, QueueEvent } from './events.js';
import { FoldedLog } from './folded-log.js';
import { PostHistory } from './history.js';
import { queueRecordProblem } from './record-check.js';
import type { Backend, Clock, IdSource } from './ports.js';
import { QueueState, SEQ_PER_OFFSET, type QueueOutcome } from './queue-state.js';
import type { Notification, NotificationListener } from './types.js';
import { queueKey } from './catalog-state.js';

export interface QueueHandle {
  readonly state: QueueState;
  readonly log: FoldedLog<QueueEvent, QueueOutcome>;
  readonly listeners: Set<NotificationListener>;
  readonly history: PostHistory;
  /** Called once the log is caught up: an empty log so far means nothing was posted before. */
  caughtUp(): void;
  /** Clock time of the last use, for idle eviction. */
  lastUsed: number;
}

export interface QueueLogsOptions {
  readonly backend: Backend;
  readonly ids: IdSource;
  readonly clock: Clock;
  readonly readBackTimeoutMs: number;
  /** Recent posts kept per queue for reattach replay. */
  readonly historyCapacity: number;
  /** The queue's current incarnation in the catalogue, or undefined when it does not exist. */
  readonly incarnationOf: (project: string, queue: string) => number | undefined;
  /** Told of each record the fold skipped (see record-check.ts). */
  readonly onSkipped?: (project: string, queue: string, offset: number, reason: string) => void;
}

export class QueueLogs {
  readonly #o: QueueLogsOptions;
  readonly #handles = new Map<string, QueueHandle>();

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
      q = this.#create(project, queue);
      this.#handles.set(key, q);
    }
    q.lastUsed = this.#o.clock();
    try {
      await q.log.open();
      q.caughtUp();
    } catch (e) {
      if (this.#handles.get(key) === q) this.#handles.delete(key);
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

  close(): void {
    for (const q of this.#handles.values()) q.log.close();
    this.#handles.clear();
  }

  #create(project: string, queue: string): QueueHandle {
    const state = new QueueState();
    const listeners = new Set<NotificationListener>();
    const history = new PostHistory(this.#o.historyCapacity);
    let first = true;
    const log = new FoldedLog<QueueEvent, QueueOutcome>({
      backend: this.#o.backend,
      log: { kind: 'queue', project, queue },
      ids: this.#o.ids,
      clock: this.#o.clock,
      apply: (e, offset) => {
        if (first) {
          // Whatever was posted before the first record we read is gone for us.
          first = false;
          history.raiseFloor(offset * SEQ_PER_OFFSET);
        }
        return state.apply(e, offset);
      },
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
    });
    // Caught up with a log that had no record: the first record read later is the queue's
    // first ever, so nothing before it is missing (the embedded backend's offsets start from
    // the wall clock, so that record's offset says nothing about what came before).
    const caughtUp = (): void => {
      first = false;
    };
    return { state, log, listeners, history, caughtUp, lastUsed: this.#o.clock() };
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
