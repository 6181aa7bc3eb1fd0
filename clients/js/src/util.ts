/** Backoff, marker order and ids. */

export interface ReconnectOptions {
  /** First delay, ms. Default 250. */
  readonly minDelayMs?: number;
  /** Ceiling, ms. Default 30 000. */
  readonly maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** 0..1: each delay is cut by up to this fraction at random, so clients do not reconnect in step. Default 0.5. */
  readonly jitter?: number;
  /** Give up (and close) after this many attempts in a row. Default: never. */
  readonly maxAttempts?: number;
}

/** The delay before reconnect attempt `attempt` (1, 2, …): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, policy: ReconnectOptions, random: () => number = Math.random): number {
  const min = policy.minDelayMs ?? 250;
  const max = policy.maxDelayMs ?? 30_000;
  const factor = policy.factor ?? 2;
  const jitter = Math.min(Math.max(policy.jitter ?? 0.5, 0), 1);
  const base = Math.min(max, min * factor ** Math.max(attempt - 1, 0));
  return Math.round(base * (1 - jitter * random()));
}

/**
 * True when marker `a` comes after `b` in the queue's log. Markers are decimal positions;
 * anything else is compared for inequality only (an unknown form is never dropped as old).
 */
export function isAfter(a: string, b: string): boolean {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return a !== b;
}

/** A UUID v4 (Zaqar wants one as Client-ID). */
export function randomId(): string {
  const c = (globalThis as unknown as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID !== undefined) return c.randomUUID();
  const hex = [...Array(32)].map(() => Math.floor(Math.random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
