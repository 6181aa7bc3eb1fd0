/**
 * Zaqar's webhook retry policy (reference §2.9; `zaqar/notification/tasks/webhook.py`):
 * which `_retry_policy` applies to a subscription, and the delays it sleeps before each retry.
 * Units are Zaqar's: seconds.
 */

/** Names of the backoff functions a policy may choose (`retry_backoff_function`). */
export const BACKOFF_FUNCTIONS = ['linear', 'arithmetic', 'exponential', 'geometric'] as const;
export type BackoffFunction = (typeof BACKOFF_FUNCTIONS)[number];

/** A resolved retry policy: every field present. Delays in seconds. */
export interface RetryPolicy {
  /** Retries sent at once after the first failure; default 3. */
  readonly retriesWithNoDelay: number;
  /** Then this many retries, each after `minimumDelay`; default 3. */
  readonly minimumDelayRetries: number;
  /** Seconds; default 5. */
  readonly minimumDelay: number;
  /** Seconds; default 30. */
  readonly maximumDelay: number;
  /** Finally this many retries, each after `maximumDelay`; default 3. */
  readonly maximumDelayRetries: number;
  /** How the delays grow from `minimumDelay` to `maximumDelay` in between; default linear. */
  readonly backoff: BackoffFunction;
}

/** Zaqar's defaults (`zaqar/common/consts.py`). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  retriesWithNoDelay: 3,
  minimumDelayRetries: 3,
  minimumDelay: 5,
  maximumDelay: 30,
  maximumDelayRetries: 3,
  backoff: 'linear',
});

/** Zaqar's `LINEAR_INTERVAL`: the step of the backoff phase, seconds. */
export const LINEAR_INTERVAL = 5;

/**
 * Upper bound of the retries of one phase. Our own guard, not Zaqar's: queue metadata is not
 * validated, so a `_retry_policy` of `{"retries_with_no_delay": 1e9}` must not pin a delivery
 * slot for ever.
 */
export const MAX_PHASE_RETRIES = 100;

/** Longest single delay, seconds (beyond it Node's timers overflow). */
const MAX_DELAY_S = 2_147_483;

type Dict = Readonly<Record<string, unknown>>;

function asDict(v: unknown): Dict | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Dict) : null;
}

/** Python truthiness of a JSON value (an empty dict is false). */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/**
 * Picks the `_retry_policy` dict that applies, as Zaqar does: the subscription's when it is a
 * non-empty dict, else the queue's; the queue's alone when either says
 * `ignore_subscription_override`.
 */
export function selectRetryPolicy(subscriptionOptions: Dict, queueMetadata: Dict): Dict {
  const sub = asDict(subscriptionOptions['_retry_policy']) ?? {};
  const queue = asDict(queueMetadata['_retry_policy']) ?? {};
  if (truthy(sub['ignore_subscription_override']) || truthy(queue['ignore_subscription_override'])) return queue;
  return truthy(sub) ? sub : queue;
}

/** A count: a non-negative integer, capped; anything else (absent, null, text) → `fallback`. */
function count(v: unknown, fallback: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return fallback;
  return Math.min(MAX_PHASE_RETRIES, Math.max(0, Math.trunc(v)));
}

/** A delay in seconds: a finite number ≥ 0, capped; anything else → `fallback`. */
function seconds(v: unknown, fallback: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return fallback;
  return Math.min(v, MAX_DELAY_S);
}

/**
 * Resolves the policy for one subscription: the selected dict's keys, Zaqar's defaults for
 * absent or unusable values (the REST API validates subscription policies; queue metadata is
 * only checked to be a dict).
 */
export function resolveRetryPolicy(subscriptionOptions: Dict, queueMetadata: Dict): RetryPolicy {
  const p = selectRetryPolicy(subscriptionOptions, queueMetadata);
  const d = DEFAULT_RETRY_POLICY;
  const fn = p['retry_backoff_function'];
  return {
    retriesWithNoDelay: count(p['retries_with_no_delay'], d.retriesWithNoDelay),
    minimumDelayRetries: count(p['minimum_delay_retries'], d.minimumDelayRetries),
    minimumDelay: seconds(p['minimum_delay'], d.minimumDelay),
    maximumDelay: seconds(p['maximum_delay'], d.maximumDelay),
    maximumDelayRetries: count(p['maximum_delay_retries'], d.maximumDelayRetries),
    backoff: (BACKOFF_FUNCTIONS as readonly unknown[]).includes(fn) ? (fn as BackoffFunction) : d.backoff,
  };
}

/**
 * The delays of the backoff phase (seconds), as Zaqar's functions compute them with
 * `LINEAR_INTERVAL` 5 (defaults 5 → 30 s: linear `5, 10, 15, 20, 25`). Where Zaqar's formula
 * divides by zero or takes the log of 0 (fewer than two steps, `minimum_delay` 0) it raises
 * and stops retrying; here the phase is empty and the next one runs.
 */
export function backoffDelays(fn: BackoffFunction, min: number, max: number): number[] {
  if (fn === 'linear') {
    const out: number[] = [];
    for (let s = min; s < max && out.length < MAX_PHASE_RETRIES; s += LINEAR_INTERVAL) out.push(s);
    return out;
  }
  const steps = Math.min(MAX_PHASE_RETRIES, Math.trunc((max - min) / LINEAR_INTERVAL));
  if (steps < 2 || min <= 0) return [];
  const xs = Array.from({ length: steps }, (_, i) => i + 1);
  if (fn === 'arithmetic') {
    const d = (2.0 * (max - min)) / (steps * (steps - 1));
    return xs.map((a) => Math.trunc(min + ((a - 1) * a * d) / 2));
  }
  const k = Math.pow(10, Math.log10(max / min) / (steps - 1));
  if (fn === 'geometric') return xs.map((a) => Math.trunc(min * Math.pow(k, a - 1)));
  const p = min / k;
  return xs.map((a) => Math.trunc(p * Math.pow(k, a)));
}

/**
 * Every delay (seconds) to wait before each retry after a failed first attempt, in order:
 * the immediate retries (0), the minimum-delay retries, the backoff phase, the maximum-delay
 * retries. Its length is the number of retries; defaults: 3 + 3 + 5 + 3 = 14.
 */
export function retrySchedule(policy: RetryPolicy): number[] {
  return [
    ...Array<number>(policy.retriesWithNoDelay).fill(0),
    ...Array<number>(policy.minimumDelayRetries).fill(policy.minimumDelay),
    ...backoffDelays(policy.backoff, policy.minimumDelay, policy.maximumDelay),
    ...Array<number>(policy.maximumDelayRetries).fill(policy.maximumDelay),
  ];
}
