/**
 * `_retry_policy` in subscription options (`validation.py#_validate_retry_policy`).
 */
import type { JsonObject } from '../../../core/types.js';
import { badApi } from '../http-error.js';
import { pyInt, } from '../body.js';
import { pyTruthy } from '../render.js';

const INT_KEYS = ['retries_with_no_delay', 'minimum_delay_retries', 'minimum_delay', 'maximum_delay', 'maximum_delay_retries'];
const BACKOFF_FUNCTIONS = new Set(['linear', 'arithmetic', 'exponential', 'geometric']);
/** Zaqar's defaults (`zaqar/common/consts.py`), seconds. */
const MINIMUM_DELAY = 5;
const MAXIMUM_DELAY = 30;
const LINEAR_INTERVAL = 5;

export function checkRetryPolicy(options: JsonObject): void {
  const policy = options['_retry_policy'];
  if (!pyTruthy(policy)) return;
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) throw badApi('retry_policy must be a dict.');
  for (const key of INT_KEYS) {
    if (pyTruthy(policy[key]) && pyInt(policy[key]) === null) throw badApi(`Retry policy: ${key} must be a integer.`);
  }
  const fn = policy['retry_backoff_function'];
  if (pyTruthy(fn) && typeof fn !== 'string') throw badApi('retry_backoff_function must be a string.');
  if (typeof fn === 'string' && fn !== '' && !BACKOFF_FUNCTIONS.has(fn)) throw badApi('invalid retry_backoff_function.');
  const ignore = policy['ignore_subscription_override'];
  if (pyTruthy(ignore) && typeof ignore !== 'boolean') throw badApi('ignore_subscription_override must be a boolean.');
  const min = pyInt(policy['minimum_delay'] ?? MINIMUM_DELAY) ?? MINIMUM_DELAY;
  const max = pyInt(policy['maximum_delay'] ?? MAXIMUM_DELAY) ?? MAXIMUM_DELAY;
  if (max < min) throw badApi('minimum_delay must less than maximum_delay.');
  if (max - min < 2 * LINEAR_INTERVAL) throw badApi('invalid minimum_delay and maximum_delay.');
}
