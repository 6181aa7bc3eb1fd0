/**
 * Timestamps per stage of a queue write inside the bridge (bench/servers/bridge.ts with
 * BENCH_STAGES=1), for the single-post profile of issue 11 §1. Nothing here is in the
 * service: the recorder wraps the backend and hooks the REST server from the outside.
 *
 * Stages of one REST post, each a separate sample set (ms):
 * - `server`: the request's `onRequest` hook to its `onResponse` (fastify).
 * - `toAppend`: `onRequest` to the backend append of its record — parsing, auth, validation,
 *   the engine, and any wait for the group commit in flight. Only sampled while exactly one
 *   request is open, so that the request and the append belong together.
 * - `confirm`: append call → the broker's confirm (the append resolves).
 * - `readBack`: append call → the record delivered back by this pod's tail.
 * - `toResponse`: the later of confirm and read-back → `onResponse` (the fold's answer,
 *   the reply's serialization and write). One open request only, as `toAppend`.
 * - `batch`: events per appended record (1 without group commit).
 */
import type { LogEvent } from '../../src/core/events.js';
import type { Backend } from '../../src/core/ports.js';
import { percentile } from './stats.js';

export const STAGES = ['server', 'toAppend', 'confirm', 'readBack', 'toResponse', 'batch'] as const;
export type Stage = (typeof STAGES)[number];
export type StageSummary = Record<Stage, { readonly p50: number; readonly p99: number; readonly mean: number; readonly n: number }>;

interface Hooks {
  addHook(name: 'onRequest' | 'onResponse', hook: (req: object, reply: unknown, done: () => void) => void): unknown;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export class StageRecorder {
  readonly #samples = new Map<Stage, number[]>(STAGES.map((s) => [s, []]));
  readonly #appendedAt = new Map<string, number>();
  readonly #confirmedAt = new Map<string, number>();
  readonly #openedAt = new WeakMap<object, number>();
  #open = 0;
  #lastRequestAt = 0;
  #lastSettledAt = 0;

  #add(stage: Stage, ms: number): void {
    this.#samples.get(stage)?.push(ms);
  }

  /** Times the REST server's requests. Call before the server starts listening. */
  hook(http: Hooks): void {
    http.addHook('onRequest', (req, _reply, done) => {
      const t = now();
      this.#openedAt.set(req, t);
      this.#open += 1;
      this.#lastRequestAt = t;
      done();
    });
    http.addHook('onResponse', (req, _reply, done) => {
      const t = now();
      const opened = this.#openedAt.get(req);
      if (opened !== undefined) this.#add('server', t - opened);
      if (this.#open === 1 && this.#lastSettledAt > (opened ?? Infinity)) this.#add('toResponse', t - this.#lastSettledAt);
      this.#open -= 1;
      done();
    });
  }

  /** Wraps the backend's append and tail (queue logs only). */
  wrap(backend: Backend): void {
    const append = backend.append.bind(backend);
    backend.append = async (log, event) => {
      if (log.kind !== 'queue' || !isWrite(event)) return append(log, event);
      const t = now();
      if (this.#open === 1) this.#add('toAppend', t - this.#lastRequestAt);
      const events: unknown = (event as { events?: unknown }).events;
      this.#add('batch', Array.isArray(events) ? events.length : 1);
      this.#appendedAt.set(event.rid, t);
      await append(log, event);
      const c = now();
      this.#add('confirm', c - t);
      this.#confirmedAt.set(event.rid, c);
      this.#settle(event.rid);
    };
    const tail = backend.tail.bind(backend);
    backend.tail = (log, start, handler) =>
      tail(log, start, {
        onRecord: (r) => {
          const t = this.#appendedAt.get(r.event.rid);
          if (t !== undefined) {
            this.#add('readBack', now() - t);
            this.#appendedAt.delete(r.event.rid);
            this.#settle(r.event.rid);
          }
          handler.onRecord(r);
        },
      });
  }

  /** Both the confirm and the read-back of `rid` arrived: the write can be answered. */
  #settle(rid: string): void {
    if (this.#appendedAt.has(rid) || !this.#confirmedAt.has(rid)) return;
    this.#confirmedAt.delete(rid);
    this.#lastSettledAt = now();
  }

  /** The samples so far, summarized; clears them. */
  take(): StageSummary {
    const out = {} as Record<Stage, StageSummary[Stage]>;
    for (const s of STAGES) {
      const xs = this.#samples.get(s) ?? [];
      out[s] = { p50: percentile(xs, 50), p99: percentile(xs, 99), mean: xs.reduce((a, b) => a + b, 0) / xs.length, n: xs.length };
      xs.length = 0;
    }
    return out;
  }
}

function isWrite(event: LogEvent): boolean {
  const type: string = event.type;
  return type === 'post' || type === 'batch';
}
