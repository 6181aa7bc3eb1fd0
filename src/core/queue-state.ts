/**
 * The state of one Zaqar queue as the fold of its event log (reference §2.3–§2.8).
 *
 * Deterministic: `apply` decides with the event's own time (`at`), never a clock, so every
 * pod folding the same log reaches the same state — that is what makes claims exclusive
 * across pods (the log order picks the winner). Reads take `now` from the caller.
 */
import { RecentOutcomes } from './recent-outcomes.js';
import type { PostedMessage, QueueEvent } from './events.js';
import type { Json, MessageView } from './types.js';

interface StoredMessage {
  readonly id: string;
  readonly seq: number;
  readonly body: Json;
  readonly createdAt: number;
  readonly delayUntil: number;
  readonly clientId: string | null;
  ttl: number;
  expiresAt: number;
  claimId: string | null;
  claimExpiresAt: number;
  claimCount: number;
  deleted: boolean;
  /**
   * Set by the claim that found this message over `_max_claim_count`: the message is on its
   * way to the dead-letter queue — hidden from lists, claims and pops, still readable by id —
   * until a `dead_lettered` event says the copy is stored.
   */
  movingBy: string | null;
  /** The queue incarnation the message was posted to. */
  readonly incarnation: number;
}

interface ClaimRecord {
  readonly id: string;
  ttl: number;
  updatedAt: number;
  expiresAt: number;
  readonly ids: string[];
}

/** What applying one event decided, for the writer waiting on it. */
export type QueueOutcome =
  | { readonly type: 'ok' }
  | { readonly type: 'posted'; readonly ids: readonly string[]; readonly seqs: readonly number[] }
  | { readonly type: 'popped'; readonly messages: readonly MessageView[] }
  | { readonly type: 'claimed'; readonly ids: readonly string[]; readonly moved: readonly PostedMessage[] }
  | { readonly type: 'claim_not_found' }
  | { readonly type: 'message_claimed' }
  | { readonly type: 'claim_invalid' }
  | { readonly type: 'message_not_claimed' };

export interface ListFilter {
  readonly afterSeq: number;
  readonly limit: number;
  readonly clientId: string | null;
  readonly echo: boolean;
  readonly includeClaimed: boolean;
  readonly includeDelayed: boolean;
}

const OK: QueueOutcome = { type: 'ok' };
/**
 * A message's seq (its marker) is derived from the offset of the event that posted it, so it
 * is the same on every pod, even one that started after retention trimmed the log's head.
 */
export const SEQ_PER_OFFSET = 100_000;
/** Most messages one post may carry (so seqs of consecutive posts never overlap). */
export const MAX_MESSAGES_PER_POST = SEQ_PER_OFFSET - 1;

/**
 * How many recent request ids are remembered: a record stored twice (a publisher retry after a
 * lost confirm, a redelivered foreign message) is applied once and answers its first outcome.
 */
const RECENT_RIDS = 4_096;
/** Expired messages and claims are swept at most this often (ms of event time). */
const SWEEP_EVERY_MS = 1_000;
/**
 * Sweeping only drops what expired this long before the event: writers' clocks may disagree by
 * less than that, so whether (and from which record) a pod sweeps never changes a decision —
 * decisions compare expiry times with the event's time themselves.
 */
export const SWEEP_MARGIN_MS = 60_000;

/** Messages a claim moved towards the dead-letter queue, not yet confirmed stored there. */
export interface PendingMove {
  readonly claimId: string;
  /** Event time of the claim. */
  readonly at: number;
  readonly messages: readonly PostedMessage[];
}

export class QueueState {
  readonly #byId = new Map<string, StoredMessage>();
  /** Messages in seq order; deleted ones are flagged and compacted away lazily. */
  #order: StoredMessage[] = [];
  #deletedInOrder = 0;
  readonly #claims = new Map<string, ClaimRecord>();
  readonly #applied = new RecentOutcomes<QueueOutcome>(RECENT_RIDS);
  readonly #moves = new Map<string, PendingMove>();
  #lastSeq = 0;
  #lastSweep = 0;
  #incarnation = 0;
  /** Offset of the last record applied. */
  lastOffset = -1;

  /** Applies one event of the log and says what it decided. */
  apply(event: QueueEvent, offset: number, slot = 0): QueueOutcome {
    this.lastOffset = offset;
    if (event.type === 'barrier') return OK;
    const seen = this.#applied.get(event.rid);
    if (seen !== undefined) return seen.type === 'posted' ? { ...seen, seqs: [] } : seen;
    const outcome = this.#decide(event, offset, slot);
    this.#applied.remember(event.rid, outcome);
    return outcome;
  }

  #decide(event: Exclude<QueueEvent, { type: 'barrier' }>, offset: number, slot: number): QueueOutcome {
    if (event.at - this.#lastSweep >= SWEEP_EVERY_MS) {
      this.#lastSweep = event.at;
      this.#sweep(event.at - SWEEP_MARGIN_MS);
    }
    switch (event.type) {
      case 'post':
        return this.#post(event.at, event.clientId, event.messages, offset * SEQ_PER_OFFSET + slot, event.incarnation ?? 0);
      case 'delete':
        return this.#deleteOne(event.id, event.claimId, event.at);
      case 'delete_many':
        for (const id of event.ids) this.#remove(id);
        return OK;
      case 'pop':
        return this.#pop(event.count, event.at);
      case 'claim':
        return this.#claim(event.claimId, event.ttl, event.grace, event.limit, event.maxClaimCount, event.at);
      case 'claim_update':
        return this.#updateClaim(event.claimId, event.ttl, event.grace, event.at);
      case 'claim_release':
        this.#release(event.claimId);
        return OK;
      case 'dead_lettered':
        this.#deadLettered(event.claimId);
        return OK;
      case 'reset':
        this.#reset(event.incarnation);
        return OK;
      case 'purge':
        this.#purge(event.all, event.at);
        return OK;
    }
  }

  // ── reads ─────────────────────────────────────────────────────────────────────

  /** Messages after `afterSeq`, skipping expired, claimed, delayed and own ones as asked. */
  list(now: number, f: ListFilter): MessageView[] {
    const out: MessageView[] = [];
    for (let i = this.#firstIndexAfter(f.afterSeq); i < this.#order.length && out.length < f.limit; i++) {
      const m = this.#order[i];
      if (m === undefined || m.deleted || m.expiresAt <= now || m.movingBy !== null) continue;
      if (!f.includeClaimed && isClaimed(m, now)) continue;
      if (!f.includeDelayed && m.delayUntil > now) continue;
      if (!f.echo && f.clientId !== null && m.clientId === f.clientId) continue;
      out.push(view(m, now));
    }
    return out;
  }

  /** A live message by id, or undefined. */
  get(id: string, now: number): MessageView | undefined {
    const m = this.#byId.get(id);
    return m === undefined || m.expiresAt <= now ? undefined : view(m, now);
  }

  stats(now: number): { claimed: number; free: number; oldest?: MessageView; newest?: MessageView } {
    let claimed = 0;
    let free = 0;
    let oldest: StoredMessage | undefined;
    let newest: StoredMessage | undefined;
    for (const m of this.#order) {
      if (m.deleted || m.expiresAt <= now) continue;
      if (isClaimed(m, now) || m.movingBy !== null) claimed++;
      else free++;
      oldest ??= m;
      newest = m;
    }
    return {
      claimed,
      free,
      ...(oldest === undefined ? {} : { oldest: view(oldest, now) }),
      ...(newest === undefined ? {} : { newest: view(newest, now) }),
    };
  }

  /** A live claim with its live messages, or undefined. */
  claim(claimId: string, now: number): { ttl: number; age: number; messages: MessageView[] } | undefined {
    const c = this.#claims.get(claimId);
    if (c === undefined || c.expiresAt <= now) return undefined;
    const messages: MessageView[] = [];
    for (const id of c.ids) {
      const m = this.#byId.get(id);
      if (m !== undefined && m.claimId === claimId && m.expiresAt > now) messages.push(view(m, now));
    }
    return { ttl: c.ttl, age: Math.max(0, Math.floor((now - c.updatedAt) / 1000)), messages };
  }

  /** Moves towards the dead-letter queue made by claims at or before `at` and not yet confirmed. */
  pendingMoves(at: number): PendingMove[] {
    return [...this.#moves.values()].filter((m) => m.at <= at);
  }

  /** Seq of the newest message ever posted (0 when none). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  // ── writes ────────────────────────────────────────────────────────────────────

  #post(
    at: number,
    clientId: string | null,
    messages: readonly PostedMessage[],
    /** The seq before the post's first message: its record's first, or after a batch's earlier posts. */
    seqBase: number,
    incarnation: number,
  ): QueueOutcome {
    if (incarnation < this.#incarnation) {
      // Posted to an earlier incarnation that has been deleted since: gone with it.
      return { type: 'posted', ids: messages.map((m) => m.id), seqs: [] };
    }
    const ids: string[] = [];
    const seqs: number[] = [];
    for (const [i, p] of messages.slice(0, MAX_MESSAGES_PER_POST).entries()) {
      if (this.#byId.has(p.id)) continue; // a redelivered foreign message; keep the first
      const m: StoredMessage = {
        id: p.id,
        seq: seqBase + i + 1,
        body: p.body,
        createdAt: at,
        delayUntil: at + p.delay * 1000,
        clientId,
        ttl: p.ttl,
        expiresAt: at + p.ttl * 1000,
        claimId: null,
        claimExpiresAt: 0,
        claimCount: p.claimCount ?? 0,
        deleted: false,
        movingBy: null,
        incarnation,
      };
      this.#byId.set(m.id, m);
      this.#order.push(m);
      this.#lastSeq = m.seq;
      ids.push(m.id);
      seqs.push(m.seq);
    }
    return { type: 'posted', ids, seqs };
  }

  /** Zaqar's single delete rules (reference §2.6). */
  #deleteOne(id: string, claimId: string | null, at: number): QueueOutcome {
    const m = this.#byId.get(id);
    if (claimId === null) {
      if (m === undefined || m.expiresAt <= at) return OK;
      if (isClaimed(m, at)) return { type: 'message_claimed' };
      this.#remove(id);
      return OK;
    }
    // Order as Zaqar 15 answers (captures): an unclaimed message is "no longer claimed" even
    // when the given claim was released; a claimed one with an unknown claim is "claim invalid".
    if (m === undefined || m.expiresAt <= at) return OK;
    if (!isClaimed(m, at)) return { type: 'message_not_claimed' };
    const c = this.#claims.get(claimId);
    if (c === undefined || c.expiresAt <= at) return { type: 'claim_invalid' };
    if (m.claimId !== claimId) return { type: 'message_claimed' };
    this.#remove(id);
    return OK;
  }

  #pop(count: number, at: number): QueueOutcome {
    const popped: MessageView[] = [];
    for (const m of this.#order) {
      if (popped.length >= count) break;
      if (!isAvailable(m, at)) continue;
      popped.push(view(m, at));
      this.#remove(m.id);
    }
    return { type: 'popped', messages: popped };
  }

  #claim(
    claimId: string,
    ttl: number,
    grace: number,
    limit: number,
    maxClaimCount: number | null,
    at: number,
  ): QueueOutcome {
    const candidates: StoredMessage[] = [];
    for (const m of this.#order) {
      if (candidates.length >= limit) break;
      if (isAvailable(m, at)) candidates.push(m);
    }
    const expiresAt = at + ttl * 1000;
    const ids: string[] = [];
    const moved: PostedMessage[] = [];
    for (const m of candidates) {
      if (maxClaimCount !== null && m.claimCount >= maxClaimCount) {
        moved.push({ id: m.id, body: m.body, ttl: m.ttl, delay: 0, claimCount: m.claimCount });
        m.movingBy = claimId;
        continue;
      }
      m.claimId = claimId;
      m.claimCount++;
      extendForClaim(m, ttl, grace, expiresAt);
      ids.push(m.id);
    }
    if (ids.length > 0) this.#claims.set(claimId, { id: claimId, ttl, updatedAt: at, expiresAt, ids });
    if (moved.length > 0) this.#moves.set(claimId, { claimId, at, messages: moved });
    return { type: 'claimed', ids, moved };
  }

  #updateClaim(claimId: string, ttl: number, grace: number, at: number): QueueOutcome {
    const c = this.#claims.get(claimId);
    if (c === undefined || c.expiresAt <= at) return { type: 'claim_not_found' };
    c.ttl = ttl;
    c.updatedAt = at;
    c.expiresAt = at + ttl * 1000;
    for (const id of c.ids) {
      const m = this.#byId.get(id);
      if (m !== undefined && m.claimId === claimId) extendForClaim(m, ttl, grace, c.expiresAt);
    }
    return OK;
  }

  /** A new incarnation of the queue: messages of earlier ones go, with their claims and moves. */
  #reset(incarnation: number): void {
    if (incarnation <= this.#incarnation) return;
    this.#incarnation = incarnation;
    for (const m of this.#order) if (!m.deleted && m.incarnation < incarnation) this.#remove(m.id);
    for (const [id, c] of this.#claims) if (!c.ids.some((x) => this.#byId.has(x))) this.#claims.delete(id);
    for (const [id, mv] of this.#moves) if (!mv.messages.some((x) => this.#byId.has(x.id))) this.#moves.delete(id);
  }

  /** The incarnation of the queue this log was last reset to (0 before any). */
  get incarnation(): number {
    return this.#incarnation;
  }

  #deadLettered(claimId: string): void {
    const move = this.#moves.get(claimId);
    if (move === undefined) return;
    this.#moves.delete(claimId);
    for (const m of move.messages) {
      if (this.#byId.get(m.id)?.movingBy === claimId) this.#remove(m.id);
    }
  }

  #release(claimId: string): void {
    const c = this.#claims.get(claimId);
    if (c === undefined) return;
    for (const id of c.ids) {
      const m = this.#byId.get(id);
      if (m !== undefined && m.claimId === claimId) {
        m.claimId = null;
        m.claimExpiresAt = 0;
      }
    }
    this.#claims.delete(claimId);
  }

  #purge(all: boolean, at: number): void {
    for (const m of this.#order) {
      if (!m.deleted && (all || !isClaimed(m, at))) this.#remove(m.id);
    }
    if (all) {
      this.#claims.clear();
      this.#moves.clear();
    }
  }

  #remove(id: string): void {
    const m = this.#byId.get(id);
    if (m === undefined) return;
    m.deleted = true;
    this.#byId.delete(id);
    this.#deletedInOrder++;
    if (this.#deletedInOrder > 64 && this.#deletedInOrder * 2 > this.#order.length) this.#compact();
  }

  #compact(): void {
    this.#order = this.#order.filter((m) => !m.deleted);
    this.#deletedInOrder = 0;
  }

  /** Drops messages and claims that expired at or before `horizon` (event time less the margin). */
  #sweep(horizon: number): void {
    for (const m of this.#order) if (!m.deleted && m.expiresAt <= horizon) this.#remove(m.id);
    for (const [id, c] of this.#claims) if (c.expiresAt <= horizon) this.#claims.delete(id);
  }

  /** Index of the first message with seq > afterSeq (binary search; `#order` is seq-sorted). */
  #firstIndexAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#order[mid];
      if (m !== undefined && m.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function isClaimed(m: StoredMessage, now: number): boolean {
  return m.claimId !== null && m.claimExpiresAt > now;
}

/** Claimable / poppable: alive, not claimed, not delayed. */
function isAvailable(m: StoredMessage, at: number): boolean {
  return !m.deleted && m.movingBy === null && m.expiresAt > at && !isClaimed(m, at) && m.delayUntil <= at;
}

/**
 * A claimed message outlives its claim by at least `grace` (reference §2.5): when it would
 * expire before the claim, its ttl becomes claim ttl + grace.
 */
function extendForClaim(m: StoredMessage, ttl: number, grace: number, claimExpiresAt: number): void {
  m.claimExpiresAt = claimExpiresAt;
  if (m.expiresAt < claimExpiresAt) {
    m.ttl = ttl + grace;
    m.expiresAt = claimExpiresAt + grace * 1000;
  }
}

function view(m: StoredMessage, now: number): MessageView {
  return {
    id: m.id,
    seq: m.seq,
    body: m.body,
    ttl: m.ttl,
    age: Math.max(0, Math.floor((now - m.createdAt) / 1000)),
    createdAt: m.createdAt,
    claimId: isClaimed(m, now) ? m.claimId : null,
    claimCount: m.claimCount,
  };
}
