/**
 * The Zaqar service: every operation of the API as reads of folded state and writes of
 * events, on any {@link Backend}. Transports call it; it never touches a socket or a broker.
 */
import { randomUUID } from 'node:crypto';
import { coalesceRule, type CoalesceRule } from './coalesce.js';
import { CatalogSnapshotter, DEFAULT_CATALOG_SNAPSHOTS, type CatalogSnapshotPolicy, type CoreDiagnostic } from './catalog-snapshotter.js';
import { CatalogState, type CatalogOutcome, type QueueRecord } from './catalog-state.js';
import { errors, ZaqarError } from './errors.js';
import type { CatalogEvent, PostedMessage, QueueEvent, Unstamped } from './events.js';
import { FoldedLog } from './folded-log.js';
import { findNonJsonValue } from './json-values.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { assertQueueName } from './names.js';
import type { Backend, Clock, IdSource, MessageValidator, PostedSink } from './ports.js';
import { foreignMessages, parseMarker } from './parse.js';
import { QueueLogs, type QueueHandle } from './queue-logs.js';
import { catalogRecordProblem } from './record-check.js';
import { MAX_MESSAGES_PER_POST, type QueueOutcome } from './queue-state.js';
import { subscriptionView } from './records.js';
import * as rules from './rules.js';
import type {
  AttachResult,
  AttachStart,
  ClaimOptions,
  ClaimResult,
  ClaimView,
  CreateSubscriptionOptions,
  CreateSubscriptionResult,
  ForeignMessage,
  IngestOutcome,
  JsonObject,
  ListMessagesOptions,
  ListMessagesResult,
  ListQueuesOptions,
  ListQueuesResult,
  MessageView,
  NewMessage,
  Notification,
  NotificationListener,
  QueueStats,
  RequestContext,
  SubscriptionView,
  UpdateSubscriptionOptions,
  ZaqarService,
} from './types.js';

export interface EngineDeps {
  readonly backend: Backend;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  readonly limits?: Limits;
  readonly validator?: MessageValidator;
  /** How long a write waits for its own event to come back (ms). Default 10000. */
  readonly readBackTimeoutMs?: number;
  /** Recent posts kept per queue for reattach replay. Default 10000. */
  readonly historyCapacity?: number;
  /**
   * A queue log this pod has not used for this long, with no listener and no write in
   * flight, is closed (its tail, its state, its history) and reopened on next use, so a pod
   * holds resources only for the queues it serves (ms). Default 300000; 0 disables.
   */
  readonly idleQueueMs?: number;
  /**
   * Most queue logs a pod folds at once beyond those with listeners; past it, the least
   * recently used idle ones close. Each costs a channel on the pod's one AMQP connection
   * (RabbitMQ's default `channel_max` is 2,047) and a reader on the broker.
   */
  readonly maxOpenQueues?: number;
  /** Told of every post this pod accepts, once stored (webhook delivery). */
  readonly posted?: PostedSink;
  /**
   * Why a webhook subscriber may not be used (the SSRF guard: it resolves the host), or null.
   * Asked when a subscription is created or its subscriber changed; absent = every URL passes.
   */
  readonly subscriberCheck?: (uri: string) => Promise<string | null>;
  /** When this pod writes a catalogue snapshot; defaults in {@link DEFAULT_CATALOG_SNAPSHOTS}. */
  readonly catalogSnapshots?: Partial<CatalogSnapshotPolicy>;
  /** Told of what the core does on its own (catalogue snapshots, restores); for logs. */
  readonly diagnostics?: (d: CoreDiagnostic) => void;
  /** Told how many messages each move to a dead-letter queue carried, once done; for metrics. */
  readonly deadLettered?: (count: number) => void;
}

export { DEFAULT_CATALOG_SNAPSHOTS, type CatalogSnapshotPolicy, type CoreDiagnostic };

/** The service plus its lifecycle, and the way in for messages published straight to the broker. */
export interface ZaqarEngine extends ZaqarService {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Closes queue logs idle for `idleQueueMs`; returns how many (runs on a timer too). */
  evictIdleQueues(): number;
  /** Number of queue logs this pod currently folds. */
  readonly openQueues: number;
  /**
   * Writes a snapshot of the catalogue as folded now, unless the newest snapshot this pod knows
   * of already covers it. Resolves with the offset it covers, or null when none was needed.
   * Runs by itself per {@link CatalogSnapshotPolicy}; exposed for tests and operators.
   */
  snapshotCatalog(): Promise<number | null>;
  /** Where this pod's catalogue came from: the snapshot offset restored (or null), and records folded since start. */
  readonly catalogOrigin: { readonly restoredOffset: number | null; readonly recordsFolded: number };
  /**
   * Stores a foreign message like a post (validated against the queue's schema, queue created
   * lazily). Resolves once stored durably, dead-lettered or dropped; rejects only when the
   * backend is unavailable (the caller then retries: the delivery must not be acknowledged).
   */
  ingest(message: ForeignMessage): Promise<IngestOutcome>;
}

/** Default of {@link EngineDeps.maxOpenQueues}: well below RabbitMQ's default `channel_max` (2,047). */
export const DEFAULT_MAX_OPEN_QUEUES = 1_000;
/** A move to the dead-letter queue not confirmed after this long is redone by the next claim (ms). */
const STALE_MOVE_MS = 30_000;

export function createZaqarService(deps: EngineDeps): ZaqarEngine {
  return new Engine(deps);
}

class Engine implements ZaqarEngine {
  readonly #backend: Backend;
  readonly #clock: Clock;
  readonly #ids: IdSource;
  readonly #limits: Limits;
  readonly #validator: MessageValidator | undefined;
  readonly #subscriberCheck: ((uri: string) => Promise<string | null>) | undefined;
  readonly #timeoutMs: number;
  readonly #idleQueueMs: number;
  readonly #posted: PostedSink | undefined;
  readonly #deadLettered: ((count: number) => void) | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  readonly #report: (d: CoreDiagnostic) => void;
  readonly #snapshots: CatalogSnapshotter;
  readonly #catalogState = new CatalogState();
  /** Set once the catalogue has caught up with its log; before that every request is a 503. */
  #ready = false;
  readonly #catalogLog: FoldedLog<CatalogEvent, CatalogOutcome>;
  readonly #logs: QueueLogs;
  #started: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(deps: EngineDeps) {
    this.#backend = deps.backend;
    this.#clock = deps.clock ?? Date.now;
    this.#ids = deps.ids ?? randomUUID;
    this.#limits = deps.limits ?? DEFAULT_LIMITS;
    this.#validator = deps.validator;
    this.#subscriberCheck = deps.subscriberCheck;
    this.#timeoutMs = deps.readBackTimeoutMs ?? 10_000;
    this.#idleQueueMs = deps.idleQueueMs ?? 300_000;
    this.#posted = deps.posted;
    this.#deadLettered = deps.deadLettered;
    const report = deps.diagnostics;
    this.#report = (d) => {
      try {
        report?.(d);
      } catch {
        // A faulty listener must not break the service.
      }
    };
    this.#snapshots = new CatalogSnapshotter({
      backend: this.#backend,
      clock: this.#clock,
      policy: { ...DEFAULT_CATALOG_SNAPSHOTS, ...deps.catalogSnapshots },
      state: this.#catalogState,
      log: () => this.#catalogLog,
      report: this.#report,
    });
    this.#logs = new QueueLogs({
      backend: this.#backend,
      ids: this.#ids,
      clock: this.#clock,
      readBackTimeoutMs: this.#timeoutMs,
      historyCapacity: deps.historyCapacity ?? 10_000,
      maxOpen: deps.maxOpenQueues ?? DEFAULT_MAX_OPEN_QUEUES,
      incarnationOf: (project, queue) => this.#catalogState.queue(project, queue)?.incarnation,
      catalogCaughtUp: () => this.#catalogLog.sync(),
      onSkipped: (project, queue, offset, reason) => this.#report({ type: 'record_skipped', log: 'queue', project, queue, offset, reason }),
    });
    this.#catalogLog = new FoldedLog<CatalogEvent, CatalogOutcome>({
      backend: this.#backend,
      log: { kind: 'catalog' },
      ids: this.#ids,
      clock: this.#clock,
      apply: (e, offset) => {
        this.#snapshots.folded(e, offset);
        return this.#catalogState.apply(e, offset);
      },
      after: (e) => {
        // The deleting pod removed the queue's log before writing the deletion (see deleteQueue).
        if (e.type === 'queue_delete') this.#logs.retire(e.project, e.queue);
        else if (e.type === 'queue_create') this.#logs.revive(e.project, e.queue);
      },
      readBackTimeoutMs: this.#timeoutMs,
      restore: () => this.#snapshots.restore(),
      onHeadMissing: (expected, first) => this.#report({ type: 'catalog_head_missing', expected, first }),
      check: catalogRecordProblem,
      onSkipped: (offset, reason) => this.#report({ type: 'record_skipped', log: 'catalog', offset, reason }),
    });
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────

  start(): Promise<void> {
    this.#started ??= (async () => {
      await this.#backend.start();
      await this.#catalogLog.open();
      this.#ready = true;
      this.#snapshots.start();
      if (this.#idleQueueMs > 0) {
        this.#sweeper = setInterval(() => this.evictIdleQueues(), Math.min(60_000, this.#idleQueueMs / 2));
        this.#sweeper.unref();
      }
    })();
    return this.#started;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#sweeper);
      // A last snapshot, so that a deployment stopped for longer than the catalogue's retention
      // still finds one covering every record it kept.
      if (this.#ready) await this.#snapshots.close();
      this.#logs.close();
      this.#catalogLog.close();
    })();
    return this.#closed;
  }

  // ── catalogue snapshots ───────────────────────────────────────────────────────

  get catalogOrigin(): { restoredOffset: number | null; recordsFolded: number } {
    return this.#snapshots.origin;
  }

  snapshotCatalog(): Promise<number | null> {
    if (!this.#ready) return Promise.reject(errors.brokerUnavailable('The service is starting.'));
    return this.#snapshots.write();
  }

  /**
   * The queue's catalogue record. When this pod does not know the queue, it first catches up
   * with the catalogue: the queue may have been created on another pod a moment ago (behind a
   * load balancer, the next request of the same client lands anywhere), and a negative answer
   * must not contradict a write that was already acknowledged. A catch-up writes a barrier to
   * the catalogue, so what clients poll (list, claim, pop, stats) does without it.
   */
  async #queueRecord(project: string, queue: string): Promise<QueueRecord | undefined> {
    const known = this.#catalog.queue(project, queue);
    if (known !== undefined) return known;
    await this.#catalogLog.sync();
    return this.#catalogState.queue(project, queue);
  }

  /** `find` on the queue's fold; when it finds nothing, again after catching up with the log (see {@link #queueRecord}). */
  async #findSynced<T>(q: QueueHandle, find: () => T | undefined): Promise<T | undefined> {
    const found = find();
    if (found !== undefined) return found;
    await q.log.sync();
    return find();
  }

  /**
   * The folded catalogue, once caught up. Until then (the backend may still be unreachable at
   * boot, while the transports already listen) requests get a clear 503 rather than answers
   * from an empty catalogue.
   */
  get #catalog(): CatalogState {
    if (!this.#ready) throw errors.brokerUnavailable('The service is starting.');
    return this.#catalogState;
  }

  /**
   * Closes the queue logs idle for `idleQueueMs` (no listener, no write in flight); returns
   * how many. Runs on a timer; exposed for tests.
   */
  evictIdleQueues(): number {
    return this.#logs.evictIdle(this.#clock() - this.#idleQueueMs);
  }

  /** Number of queue logs this pod currently folds. */
  get openQueues(): number {
    return this.#logs.size;
  }

  healthy(): boolean {
    return this.#ready && this.#backend.status().type === 'up';
  }

  // ── queues ────────────────────────────────────────────────────────────────────

  async listQueues(ctx: RequestContext, opts: ListQueuesOptions): Promise<ListQueuesResult> {
    const limit = rules.queuePageLimit(opts.limit, this.#limits);
    const all = this.#catalog.queues(ctx.project);
    const marker = opts.marker;
    const after = marker === undefined ? all : all.filter((q) => q.name > marker);
    return { queues: after.slice(0, limit), count: all.length };
  }

  async createQueue(ctx: RequestContext, queue: string, metadata: JsonObject = {}): Promise<boolean> {
    assertQueueName(queue, ctx.project);
    rules.queueMetadata(metadata, this.#limits, this.#validator);
    if (this.#catalog.queue(ctx.project, queue) !== undefined) return false;
    const o = await this.#catalogLog.write({ type: 'queue_create', project: ctx.project, queue, metadata });
    return o.type === 'queue_created' && o.created;
  }

  async getQueue(ctx: RequestContext, queue: string): Promise<JsonObject | null> {
    return (await this.#queueRecord(ctx.project, queue))?.metadata ?? null;
  }

  async setQueueMetadata(ctx: RequestContext, queue: string, metadata: JsonObject): Promise<void> {
    assertQueueName(queue, ctx.project);
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) throw errors.queueNotFound(queue, ctx.project);
    rules.queueMetadata(metadata, this.#limits, this.#validator);
    const o = await this.#catalogLog.write({ type: 'queue_metadata', project: ctx.project, queue, metadata });
    if (o.type === 'queue_not_found') throw errors.queueNotFound(queue, ctx.project);
  }

  async deleteQueue(ctx: RequestContext, queue: string): Promise<void> {
    assertQueueName(queue, ctx.project);
    if (!this.#logs.has(ctx.project, queue) && (await this.#queueRecord(ctx.project, queue)) === undefined) {
      return;
    }
    // The log goes first, while the queue still exists: a post racing the deletion either lands
    // in the log (and goes with it, having been acknowledged before the deletion was), or is
    // refused (503), or creates a fresh log of the same incarnation, which a later creation of
    // the queue resets. Removing the log after the deletion record instead could delete a log
    // that a new incarnation, created in between on another pod, had already written to.
    await this.#backend.deleteLog({ kind: 'queue', project: ctx.project, queue });
    await this.#catalogLog.write({ type: 'queue_delete', project: ctx.project, queue });
  }

  async queueStats(ctx: RequestContext, queue: string, opts: { readonly confirmMissing?: boolean } = {}): Promise<QueueStats> {
    // Polled: answered from the fold as it is (see #queueRecord), unless the caller turns a miss into a 404.
    const record = opts.confirmMissing === true ? await this.#queueRecord(ctx.project, queue) : this.#catalog.queue(ctx.project, queue);
    const exists = record !== undefined;
    if (!exists) return { exists, claimed: 0, free: 0, total: 0 };
    const q = await this.#open(ctx.project, queue);
    const now = this.#clock();
    const s = q.state.stats(now);
    const brief = (m: MessageView | undefined) =>
      m === undefined ? undefined : { id: m.id, age: m.age, createdAt: m.createdAt };
    const oldest = brief(s.oldest);
    const newest = brief(s.newest);
    return {
      exists,
      claimed: s.claimed,
      free: s.free,
      total: s.claimed + s.free,
      ...(oldest === undefined ? {} : { oldest }),
      ...(newest === undefined ? {} : { newest }),
    };
  }

  async purgeQueue(ctx: RequestContext, queue: string, types: readonly ('messages' | 'subscriptions')[]): Promise<void> {
    assertQueueName(queue, ctx.project);
    if (types.includes('messages') && (await this.#queueRecord(ctx.project, queue)) !== undefined) {
      await this.#write(ctx.project, queue, { type: 'purge', all: false });
    }
    if (types.includes('subscriptions')) {
      await this.#catalogLog.write({ type: 'subscription_purge', project: ctx.project, queue });
    }
  }

  // ── messages ──────────────────────────────────────────────────────────────────

  async postMessages(ctx: RequestContext, queue: string, messages: readonly NewMessage[]): Promise<string[]> {
    assertQueueName(queue, ctx.project);
    if (messages.length === 0) throw errors.validation('No messages to enqueu.');
    if (messages.length > MAX_MESSAGES_PER_POST) {
      throw errors.validation(`A post may carry at most ${MAX_MESSAGES_PER_POST} messages.`);
    }
    const metadata = (await this.#queueRecord(ctx.project, queue))?.metadata ?? {};
    const posted = this.#prepare(queue, metadata, messages);
    await this.#ensureQueue(ctx.project, queue);
    const o = await this.#write(ctx.project, queue, { type: 'post', clientId: ctx.clientId, messages: posted });
    this.#tellPosted(ctx.project, queue, posted, o);
    return o.type === 'posted' ? [...o.ids] : [];
  }

  /** Hands a stored post to the webhook sink, if the queue has webhook subscriptions. */
  #tellPosted(project: string, queue: string, posted: readonly PostedMessage[], o: QueueOutcome): void {
    if (this.#posted === undefined || o.type !== 'posted' || o.seqs.length === 0) return;
    const now = this.#clock();
    const webhooks = this.#catalogState.webhooks(project, queue, now).map((s) => subscriptionView(queue, s, now));
    if (webhooks.length === 0) return;
    const byId = new Map(posted.map((m) => [m.id, m]));
    const messages: Notification[] = [];
    o.ids.forEach((id, i) => {
      const m = byId.get(id);
      const seq = o.seqs[i];
      if (m !== undefined && seq !== undefined) messages.push({ project, queue, messageId: id, marker: String(seq), ttl: m.ttl, body: m.body });
    });
    const metadata = this.#catalogState.queue(project, queue)?.metadata ?? {};
    try {
      this.#posted.posted({ project, queue, metadata, messages, webhooks });
    } catch {
      // Delivery is best effort and never fails the post (reference §2.9).
    }
  }

  async ingest(f: ForeignMessage): Promise<IngestOutcome> {
    let messages: NewMessage[];
    try {
      assertQueueName(f.queue, f.project);
      messages = foreignMessages(f.payload);
      if (messages.length === 0) throw errors.validation('No messages to enqueu.');
      const metadata = (await this.#queueRecord(f.project, f.queue))?.metadata ?? {};
      const posted = this.#prepare(f.queue, metadata, messages);
      await this.#ensureQueue(f.project, f.queue);
      const event = { type: 'post' as const, clientId: null, messages: posted };
      const o = await this.#write(f.project, f.queue, event, f.messageId);
      this.#tellPosted(f.project, f.queue, posted, o);
      return { type: 'stored', ids: o.type === 'posted' ? o.ids : [] };
    } catch (e) {
      if (!(e instanceof ZaqarError) || e.status !== 400) throw e;
      return this.#rejectForeign(f, e.description);
    }
  }

  /** An invalid foreign message goes to the queue's dead-letter queue, if any, unvalidated. */
  async #rejectForeign(f: ForeignMessage, reason: string): Promise<IngestOutcome> {
    const metadata = this.#catalog.queue(f.project, f.queue)?.metadata;
    const dlq = metadata?.['_dead_letter_queue'];
    if (typeof dlq !== 'string' || dlq === '' || dlq === f.queue) return { type: 'dropped', reason };
    // Stored unvalidated, a body too deep to read would poison the dead-letter queue instead,
    // and one JSON cannot carry would read back differently on other pods.
    if (rules.nestsDeeperThan(f.payload, rules.MAX_BODY_DEPTH) || findNonJsonValue(f.payload) !== null) return { type: 'dropped', reason };
    const ttl = rules.metadataInt(metadata, '_dead_letter_queue_messages_ttl') ?? this.#limits.defaultMessageTtl;
    await this.#ensureQueue(f.project, dlq);
    const messages = [{ id: this.#ids(), body: f.payload, ttl, delay: 0 }];
    await this.#write(f.project, dlq, { type: 'post', clientId: null, messages }, f.messageId);
    return { type: 'dead_lettered', reason, deadLetterQueue: dlq };
  }

  /** Resolves ttl and delay, checks ranges and the queue's schema; nothing is stored on failure. */
  #prepare(queue: string, metadata: JsonObject, messages: readonly NewMessage[]): PostedMessage[] {
    const defaultTtl = rules.metadataInt(metadata, '_default_message_ttl') ?? this.#limits.defaultMessageTtl;
    const defaultDelay = rules.metadataInt(metadata, '_default_message_delay');
    messages.forEach((m, i) => {
      rules.bodyDepth(m.body);
      rules.jsonOnly('Message body', m.body, () => `messages[${i}].body`);
    });
    const posted = messages.map((m) => ({
      id: this.#ids(),
      body: m.body,
      ttl: rules.messageTtl(m.ttl ?? defaultTtl, this.#limits),
      // Per-message delays are honoured only on delay queues (reference §2.8).
      delay: defaultDelay === null ? 0 : rules.messageDelay(m.delay ?? defaultDelay, this.#limits),
    }));
    const problem = this.#validator?.validate(queue, metadata, messages.map((m) => m.body)) ?? null;
    if (problem !== null) throw errors.bodySchema(problem);
    return posted;
  }

  async listMessages(ctx: RequestContext, queue: string, opts: ListMessagesOptions): Promise<ListMessagesResult> {
    const limit = rules.pageLimit(opts.limit, this.#limits.maxMessagesPerPage, this.#limits.defaultPageSize);
    const record = opts.confirmMissing === true ? await this.#queueRecord(ctx.project, queue) : this.#catalog.queue(ctx.project, queue);
    if (record === undefined) return { messages: [], queueExists: false }; // polled: no catch-up unless a miss is a 404
    const afterSeq = parseMarker(opts.marker);
    if (afterSeq === null) return { messages: [], queueExists: true };
    const q = await this.#open(ctx.project, queue);
    const messages = q.state.list(this.#clock(), {
      afterSeq,
      limit,
      clientId: ctx.clientId,
      echo: opts.echo ?? false,
      includeClaimed: opts.includeClaimed ?? false,
      includeDelayed: opts.includeDelayed ?? false,
    });
    return { messages, queueExists: true };
  }

  async getMessage(ctx: RequestContext, queue: string, id: string): Promise<MessageView> {
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) throw errors.queueNotFound(queue, ctx.project);
    const q = await this.#open(ctx.project, queue);
    const m = await this.#findSynced(q, () => q.state.get(id, this.#clock()));
    if (m === undefined) throw errors.messageNotFound(id, queue, ctx.project);
    return m;
  }

  async getMessages(ctx: RequestContext, queue: string, ids: readonly string[]): Promise<MessageView[]> {
    rules.pageLimit(ids.length, this.#limits.maxMessagesPerPage, 1);
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) return [];
    const q = await this.#open(ctx.project, queue);
    const pick = (): MessageView[] => {
      const now = this.#clock();
      return ids.map((id) => q.state.get(id, now)).filter((m): m is MessageView => m !== undefined);
    };
    const views = pick();
    if (views.length === ids.length) return views;
    await q.log.sync(); // some may have been posted on another pod a moment ago
    return pick();
  }

  async deleteMessage(ctx: RequestContext, queue: string, id: string, claimId?: string): Promise<void> {
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) return;
    const o = await this.#write(ctx.project, queue, { type: 'delete', id, claimId: claimId ?? null });
    switch (o.type) {
      case 'message_claimed':
        throw errors.messageClaimed(id);
      case 'claim_invalid':
        throw errors.claimInvalid(claimId ?? '', queue, ctx.project);
      case 'message_not_claimed':
        throw errors.messageNotClaimed(id);
      default:
        return;
    }
  }

  async deleteMessages(ctx: RequestContext, queue: string, ids: readonly string[]): Promise<void> {
    rules.deleteIds(ids, this.#limits);
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) return;
    await this.#write(ctx.project, queue, { type: 'delete_many', ids: [...ids] });
  }

  async popMessages(ctx: RequestContext, queue: string, count: number): Promise<MessageView[]> {
    rules.popCount(count, this.#limits);
    if (this.#catalog.queue(ctx.project, queue) === undefined) return []; // polled: no catch-up
    const o = await this.#write(ctx.project, queue, { type: 'pop', count });
    return o.type === 'popped' ? [...o.messages] : [];
  }

  // ── claims ────────────────────────────────────────────────────────────────────

  async createClaim(ctx: RequestContext, queue: string, opts: ClaimOptions): Promise<ClaimResult> {
    const ttl = rules.claimTtl(opts.ttl, this.#limits);
    const grace = rules.claimGrace(opts.grace, this.#limits);
    const limit = rules.pageLimit(opts.limit, this.#limits.maxMessagesPerClaimOrPop, this.#limits.defaultPageSize);
    const claimId = this.#ids();
    // Workers poll for claims, often before the first post created the queue: no catch-up here
    // (it would write a catalogue record per poll); the next poll sees the queue.
    const metadata = this.#catalog.queue(ctx.project, queue)?.metadata;
    if (metadata === undefined) return { claimId, messages: [] };
    const dlq = typeof metadata['_dead_letter_queue'] === 'string' ? metadata['_dead_letter_queue'] : null;
    const maxClaimCount = dlq === null ? null : rules.metadataInt(metadata, '_max_claim_count');
    const q = await this.#open(ctx.project, queue);
    if (dlq !== null) {
      // Finish moves that an earlier claim started but did not confirm (its pod died, or the
      // dead-letter write failed): a message is never lost between the two queues.
      for (const move of q.state.pendingMoves(this.#clock() - STALE_MOVE_MS)) {
        await this.#deadLetter(ctx.project, queue, dlq, metadata, move.claimId, move.messages);
      }
    }
    const o = await q.log.write({ type: 'claim', claimId, ttl, grace, limit, maxClaimCount });
    if (o.type !== 'claimed') return { claimId, messages: [] };
    if (o.moved.length > 0 && dlq !== null) await this.#deadLetter(ctx.project, queue, dlq, metadata, claimId, o.moved);
    const now = this.#clock();
    const messages = o.ids.map((id) => q.state.get(id, now)).filter((m): m is MessageView => m !== undefined);
    return { claimId, messages };
  }

  /**
   * Moves messages that reached `_max_claim_count` to the dead-letter queue (§2.7): the copy
   * is posted with a request id derived from the claim (so a retried move is stored once),
   * then the source queue records that the move is done and drops the originals.
   */
  async #deadLetter(
    project: string,
    queue: string,
    dlq: string,
    metadata: JsonObject,
    claimId: string,
    moved: readonly PostedMessage[],
  ): Promise<void> {
    const ttl = rules.metadataInt(metadata, '_dead_letter_queue_messages_ttl');
    await this.#ensureQueue(project, dlq);
    const messages = moved.map((m) => (ttl === null ? m : { ...m, ttl }));
    await this.#write(project, dlq, { type: 'post', clientId: null, messages }, `dead-letter:${queue}:${claimId}`);
    await this.#write(project, queue, { type: 'dead_lettered', claimId });
    this.#deadLettered?.(moved.length);
  }

  async getClaim(ctx: RequestContext, queue: string, claimId: string): Promise<ClaimView> {
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) throw errors.claimNotFound(claimId, queue, ctx.project);
    const q = await this.#open(ctx.project, queue);
    const c = await this.#findSynced(q, () => q.state.claim(claimId, this.#clock()));
    if (c === undefined) throw errors.claimNotFound(claimId, queue, ctx.project);
    return { id: claimId, ...c };
  }

  async updateClaim(ctx: RequestContext, queue: string, claimId: string, opts: { ttl?: number; grace?: number }): Promise<void> {
    const ttl = rules.claimTtl(opts.ttl, this.#limits);
    const grace = rules.claimGrace(opts.grace, this.#limits);
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) throw errors.claimNotFound(claimId, queue, ctx.project);
    const o = await this.#write(ctx.project, queue, { type: 'claim_update', claimId, ttl, grace });
    if (o.type === 'claim_not_found') throw errors.claimNotFound(claimId, queue, ctx.project);
  }

  async deleteClaim(ctx: RequestContext, queue: string, claimId: string): Promise<void> {
    if ((await this.#queueRecord(ctx.project, queue)) === undefined) return;
    await this.#write(ctx.project, queue, { type: 'claim_release', claimId });
  }

  // ── subscriptions ─────────────────────────────────────────────────────────────

  async createSubscription(ctx: RequestContext, queue: string, opts: CreateSubscriptionOptions): Promise<CreateSubscriptionResult> {
    assertQueueName(queue, ctx.project);
    const subscriber = rules.subscriber(opts.subscriber);
    const ttl = rules.subscriptionTtl(opts.ttl, this.#limits);
    if (opts.websocket !== true) await this.#checkSubscriber(subscriber);
    if (opts.options !== undefined) rules.documentDepth('Subscription options', opts.options);
    await this.#ensureQueue(ctx.project, queue);
    const o = await this.#catalogLog.write({
      type: 'subscription_create',
      project: ctx.project,
      queue,
      subscription: {
        id: this.#ids(),
        subscriber,
        ttl,
        options: opts.options ?? {},
        ...(opts.websocket === true ? { websocket: true } : {}),
      },
    });
    if (o.type !== 'subscription') throw errors.conflict('Such subscription already exists.');
    return { id: o.id, created: o.created, confirmed: o.confirmed };
  }

  async listSubscriptions(ctx: RequestContext, queue: string, opts: { marker?: string; limit?: number }): Promise<SubscriptionView[]> {
    const limit = rules.pageLimit(opts.limit, this.#limits.maxSubscriptionsPerPage, this.#limits.defaultPageSize);
    const now = this.#clock();
    const marker = opts.marker;
    return this.#catalog
      .subscriptions(ctx.project, queue, now)
      .filter((s) => marker === undefined || s.id > marker)
      .slice(0, limit)
      .map((s) => subscriptionView(queue, s, now));
  }

  async getSubscription(ctx: RequestContext, queue: string, id: string): Promise<SubscriptionView> {
    let s = this.#catalog.subscription(ctx.project, queue, id, this.#clock());
    if (s === undefined) {
      await this.#catalogLog.sync(); // created on another pod a moment ago?
      s = this.#catalogState.subscription(ctx.project, queue, id, this.#clock());
    }
    if (s === undefined) throw errors.subscriptionNotFound(id, queue);
    return subscriptionView(queue, s, this.#clock());
  }

  /** A 400 for a subscriber the SSRF guard refuses (before anything is written). */
  async #checkSubscriber(uri: string): Promise<void> {
    const refusal = (await this.#subscriberCheck?.(uri)) ?? null;
    if (refusal !== null) throw errors.validation(refusal);
  }

  async updateSubscription(ctx: RequestContext, queue: string, id: string, opts: UpdateSubscriptionOptions): Promise<void> {
    if (opts.subscriber !== undefined) await this.#checkSubscriber(rules.subscriber(opts.subscriber));
    if (opts.options !== undefined) rules.documentDepth('Subscription options', opts.options);
    const update = {
      ...(opts.subscriber === undefined ? {} : { subscriber: rules.subscriber(opts.subscriber) }),
      ...(opts.ttl === undefined ? {} : { ttl: rules.subscriptionTtl(opts.ttl, this.#limits) }),
      ...(opts.options === undefined ? {} : { options: opts.options }),
    };
    await this.#updateSubscription(ctx, queue, id, update);
  }

  async confirmSubscription(ctx: RequestContext, queue: string, id: string, confirmed: boolean): Promise<void> {
    await this.#updateSubscription(ctx, queue, id, { confirmed });
  }

  async #updateSubscription(
    ctx: RequestContext,
    queue: string,
    id: string,
    update: { subscriber?: string; ttl?: number; options?: JsonObject; confirmed?: boolean },
  ): Promise<void> {
    const o = await this.#catalogLog.write({ type: 'subscription_update', project: ctx.project, queue, id, ...update });
    if (o.type === 'subscription_not_found') throw errors.subscriptionNotFound(id, queue);
    if (o.type === 'subscription_conflict') {
      throw errors.conflict('Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI.');
    }
  }

  async deleteSubscription(ctx: RequestContext, queue: string, id: string): Promise<void> {
    await this.#catalogLog.write({ type: 'subscription_delete', project: ctx.project, queue, id });
  }

  coalescing(project: string, queue: string): CoalesceRule | null {
    return coalesceRule(this.#catalog.queue(project, queue)?.metadata);
  }

  subscriptionAlive(project: string, queue: string, id: string): boolean {
    return this.#catalog.subscription(project, queue, id, this.#clock()) !== undefined;
  }

  liveSubscriptions(project: string, queue: string): (id: string) => boolean {
    return this.#catalog.liveCheck(project, queue, this.#clock());
  }

  async watch(project: string, queue: string, listener: NotificationListener): Promise<() => void> {
    return (await this.attach(project, queue, listener, 'next')).stop;
  }

  async attach(project: string, queue: string, listener: NotificationListener, start: AttachStart): Promise<AttachResult> {
    const afterSeq = start === 'first' ? -1 : start === 'next' ? null : parseMarker(start.after);
    if (afterSeq === null && start !== 'next') throw errors.validation('The marker is not valid.');
    const q = await this.#open(project, queue);
    // The client's marker may be ahead of this pod's fold (it saw it on a pod further along
    // the log): catch up. Still ahead, it is a marker this queue never handed out (from
    // another queue, or from before a restart of the embedded backend): waiting for it would
    // deliver nothing, ever. Answer `gap` and deliver live from now.
    // The head: the newest message folded, or the floor below which this pod holds nothing
    // (an attach answered with the floor as its marker must reattach without a gap).
    const head = (): number => Math.max(q.state.lastSeq, q.history.floor);
    let beyondHead = false;
    if (afterSeq !== null && afterSeq > head()) {
      await q.log.sync();
      beyondHead = afterSeq > head();
    }
    // From here to the listener's registration nothing yields: no record can slip between
    // the replay and live delivery, and none is delivered twice.
    const replay = afterSeq === null || beyondHead ? { entries: [], gap: beyondHead } : q.history.replay(afterSeq, this.#clock());
    for (const n of replay.entries) listener(n);
    // Live messages up to the marker were delivered already (on a pod further along), so skip them.
    const floor = beyondHead ? head() : (afterSeq ?? -1);
    // A fold after a deletion of the queue hands out markers from the start again: they pass.
    const epoch = q.epoch;
    const live: NotificationListener = floor < 0 ? listener : (n) => (q.epoch !== epoch || Number(n.marker) > floor) && listener(n);
    q.listeners.add(live);
    const last = replay.entries.at(-1)?.marker ?? String(Math.max(head(), floor));
    return {
      stop: () => {
        q.listeners.delete(live);
      },
      replayed: replay.entries.length,
      gap: replay.gap,
      marker: last,
    };
  }

  // ── plumbing ──────────────────────────────────────────────────────────────────

  /** Lazy queue creation (posts and subscriptions create their queue, §1). */
  async #ensureQueue(project: string, queue: string): Promise<void> {
    if (this.#catalog.queue(project, queue) !== undefined) return;
    assertQueueName(queue, project);
    await this.#catalogLog.write({ type: 'queue_create', project, queue, metadata: {} });
  }

  async #write(project: string, queue: string, event: Unstamped<QueueEvent>, rid?: string): Promise<QueueOutcome> {
    const q = await this.#open(project, queue);
    // A post belongs to the incarnation of the queue its writer sees (see the `reset` event).
    const tagged = event.type === 'post' ? { ...event, incarnation: this.#catalogState.queue(project, queue)?.incarnation ?? 0 } : event;
    return q.log.write(tagged, rid);
  }

  /** The folded log of a queue, once the service is started. */
  async #open(project: string, queue: string): Promise<QueueHandle> {
    if (!this.#ready) throw errors.brokerUnavailable('The service is starting.');
    return this.#logs.open(project, queue);
  }
}
