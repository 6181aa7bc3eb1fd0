/** Webhook delivery of notifications to `http`/`https` subscribers (reference §2.9). */
export {
  WebhookDispatcher,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_TIMEOUT_MS,
  type DeliveryOutcome,
  type Scheduler,
  type WebhookDispatcherOptions,
} from './webhook-dispatcher.js';
export {
  BACKOFF_FUNCTIONS,
  DEFAULT_RETRY_POLICY,
  LINEAR_INTERVAL,
  MAX_PHASE_RETRIES,
  backoffDelays,
  resolveRetryPolicy,
  retrySchedule,
  selectRetryPolicy,
  type BackoffFunction,
  type RetryPolicy,
} from './retry-policy.js';
export { DEFAULT_USER_AGENT, MESSAGE_PLACEHOLDER, notificationJson, requestBody, requestHeaders, webhookTarget } from './webhook-request.js';
