import { describe, expect, it } from 'vitest';
import { backoffDelays, DEFAULT_RETRY_POLICY, MAX_PHASE_RETRIES, resolveRetryPolicy, retrySchedule, selectRetryPolicy } from '../../../src/notifications/index.js';

describe('selectRetryPolicy', () => {
  const sub = { _retry_policy: { retries_with_no_delay: 1 } };
  const queue = { _retry_policy: { retries_with_no_delay: 2 } };

  it('prefers the subscription’s policy, else the queue’s, else none', () => {
    expect(selectRetryPolicy(sub, queue)).toEqual({ retries_with_no_delay: 1 });
    expect(selectRetryPolicy({}, queue)).toEqual({ retries_with_no_delay: 2 });
    expect(selectRetryPolicy({ _retry_policy: {} }, queue)).toEqual({ retries_with_no_delay: 2 });
    expect(selectRetryPolicy({}, {})).toEqual({});
  });

  it('takes the queue’s when either side says ignore_subscription_override', () => {
    const q = { _retry_policy: { retries_with_no_delay: 2, ignore_subscription_override: true } };
    expect(selectRetryPolicy(sub, q)).toBe(q._retry_policy);
    expect(selectRetryPolicy({ _retry_policy: { retries_with_no_delay: 1, ignore_subscription_override: true } }, {})).toEqual({});
  });
});

describe('resolveRetryPolicy', () => {
  it('defaults to Zaqar’s constants', () => {
    expect(resolveRetryPolicy({}, {})).toEqual(DEFAULT_RETRY_POLICY);
    expect(DEFAULT_RETRY_POLICY).toEqual({
      retriesWithNoDelay: 3,
      minimumDelayRetries: 3,
      minimumDelay: 5,
      maximumDelay: 30,
      maximumDelayRetries: 3,
      backoff: 'linear',
    });
  });

  it('reads every key, keeps zeros, and replaces unusable values by the defaults', () => {
    const p = resolveRetryPolicy(
      {
        _retry_policy: {
          retries_with_no_delay: 0,
          minimum_delay_retries: 'x',
          minimum_delay: 2,
          maximum_delay: -1,
          maximum_delay_retries: 1e9,
          retry_backoff_function: 'geometric',
        },
      },
      {},
    );
    expect(p).toEqual({ retriesWithNoDelay: 0, minimumDelayRetries: 3, minimumDelay: 2, maximumDelay: 30, maximumDelayRetries: MAX_PHASE_RETRIES, backoff: 'geometric' });
    expect(resolveRetryPolicy({ _retry_policy: { retry_backoff_function: 'cubic' } }, {}).backoff).toBe('linear');
  });
});

// Expected values computed with Zaqar's own formulas (webhook.py) in Python 3.
describe('backoffDelays', () => {
  it('linear: range(min, max, 5)', () => {
    expect(backoffDelays('linear', 5, 30)).toEqual([5, 10, 15, 20, 25]);
    expect(backoffDelays('linear', 1, 60)).toEqual([1, 6, 11, 16, 21, 26, 31, 36, 41, 46, 51, 56]);
    expect(backoffDelays('linear', 30, 30)).toEqual([]);
  });

  it('geometric', () => {
    expect(backoffDelays('geometric', 5, 30)).toEqual([5, 7, 12, 19, 30]);
    expect(backoffDelays('geometric', 1, 60)).toEqual([1, 1, 2, 3, 5, 7, 11, 17, 26, 39, 59]);
    expect(backoffDelays('geometric', 10, 20)).toEqual([10, 20]);
  });

  it('exponential', () => {
    expect(backoffDelays('exponential', 5, 30)).toEqual([5, 7, 12, 19, 30]);
    expect(backoffDelays('exponential', 1, 60)).toEqual([1, 1, 2, 3, 5, 7, 11, 17, 26, 39, 59]);
    expect(backoffDelays('exponential', 10, 20)).toEqual([10, 20]);
  });

  it('arithmetic', () => {
    expect(backoffDelays('arithmetic', 5, 30)).toEqual([5, 7, 12, 20, 30]);
    expect(backoffDelays('arithmetic', 1, 60)).toEqual([1, 2, 4, 7, 11, 17, 23, 31, 39, 49, 60]);
    expect(backoffDelays('arithmetic', 10, 20)).toEqual([10, 20]);
  });

  it('is empty where Zaqar’s formula would divide by zero, and bounded', () => {
    for (const fn of ['geometric', 'exponential', 'arithmetic'] as const) {
      expect(backoffDelays(fn, 5, 12)).toEqual([]);
      expect(backoffDelays(fn, 0, 30)).toEqual([]);
    }
    expect(backoffDelays('linear', 0, 1e9)).toHaveLength(MAX_PHASE_RETRIES);
    expect(backoffDelays('geometric', 1, 1e9)).toHaveLength(MAX_PHASE_RETRIES);
  });
});

describe('retrySchedule', () => {
  it('is 3 immediate, 3 × 5 s, linear 5..25 s, 3 × 30 s by default (14 retries)', () => {
    expect(retrySchedule(DEFAULT_RETRY_POLICY)).toEqual([0, 0, 0, 5, 5, 5, 5, 10, 15, 20, 25, 30, 30, 30]);
  });

  it('follows a custom policy', () => {
    const p = resolveRetryPolicy({ _retry_policy: { retries_with_no_delay: 1, minimum_delay_retries: 0, minimum_delay: 1, maximum_delay: 11, maximum_delay_retries: 1 } }, {});
    expect(retrySchedule(p)).toEqual([0, 1, 6, 11]);
  });
});
