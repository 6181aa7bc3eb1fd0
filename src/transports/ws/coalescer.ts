/**
 * Live-notification coalescing for one stream of a queue's notifications (a plain watch shared
 * by its subscribers, or one reattach subscription): while a queue has a `_coalesce` rule
 * (src/core/coalesce.ts), the first message with a value at the rule's key opens a window of
 * `window_ms`; messages arriving during it are gathered, and of those with equal key values only
 * the latest is kept. When the window ends the survivors go out in log order, so markers still
 * only increase for clients that track them. Messages with no value at the key, outside a
 * window, go out at once.
 */
import { pointerValue, type CoalesceRule } from '../../core/coalesce.js';
import type { Notification } from '../../core/types.js';

export class Coalescer {
  readonly #rule: () => CoalesceRule | null;
  readonly #deliver: (n: Notification) => void;
  #pending: (Notification | null)[] = [];
  readonly #slotOfKey = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Notifications dropped because a later one of the same key replaced them. */
  coalesced = 0;

  /** `rule` is read for every notification, so a metadata change applies at once. */
  constructor(rule: () => CoalesceRule | null, deliver: (n: Notification) => void) {
    this.#rule = rule;
    this.#deliver = deliver;
  }

  push(n: Notification): void {
    const open = this.#timer !== undefined;
    const rule = this.#rule();
    const value = rule === null ? undefined : pointerValue(n.body, rule.key);
    if (!open) {
      if (rule === null || value === undefined) {
        this.#deliver(n);
        return;
      }
      this.#timer = setTimeout(() => this.flush(), rule.windowMs);
    }
    if (value !== undefined) {
      const key = JSON.stringify(value);
      const slot = this.#slotOfKey.get(key);
      if (slot !== undefined) {
        this.#pending[slot] = null;
        this.coalesced++;
      }
      this.#slotOfKey.set(key, this.#pending.length);
    }
    this.#pending.push(n);
  }

  /** Sends what the window gathered, in log order. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pending;
    this.#pending = [];
    this.#slotOfKey.clear();
    for (const n of pending) if (n !== null) this.#deliver(n);
  }

  /** Drops what is pending (the subscribers are gone). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
    this.#slotOfKey.clear();
  }
}
