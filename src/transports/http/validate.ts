/**
 * REST-side checks whose texts and order are Zaqar's transport validation
 * (`zaqar/transport/validation.py`); the core re-checks what it owns.
 */
import type { Limits } from '../../core/limits.js';
import { badApi } from './http-error.js';

function inRange(n: number, min: number, max: number): boolean {
  return n >= min && n <= max;
}

/** Queue listing page size. */
export function checkQueueLimit(limit: number | undefined, limits: Limits): void {
  if (limit !== undefined && !inRange(limit, 1, limits.maxQueuesPerPage)) {
    throw badApi(`Limit must be at least 1 and no greater than ${limits.maxQueuesPerPage}.`);
  }
}

/** Message listing page size, and the number of ids of a get-many. */
export function checkMessageLimit(limit: number | undefined, limits: Limits): void {
  if (limit !== undefined && !inRange(limit, 1, limits.maxMessagesPerPage)) {
    throw badApi(`Limit must be at least 1 and may not be greater than ${limits.maxMessagesPerPage}.`);
  }
}

export function checkSubscriptionLimit(limit: number | undefined, limits: Limits): void {
  if (limit !== undefined && !inRange(limit, 1, limits.maxSubscriptionsPerPage)) {
    throw badApi(`Limit must be at least 1 and may not be greater than ${limits.maxSubscriptionsPerPage}.`);
  }
}

/** `message_deletion`: exactly one of ids / pop, each within its bounds. */
export function checkDeletion(ids: string[] | undefined, pop: number | undefined, limits: Limits): void {
  if (pop !== undefined && ids !== undefined) {
    throw badApi('pop and id params cannot be present together in the delete request.');
  }
  if (pop === undefined && ids === undefined) {
    throw badApi('The request should have either "ids" or "pop" parameter in the request, to be able to delete.');
  }
  const popMax = limits.maxMessagesPerClaimOrPop;
  if (pop !== undefined && !inRange(pop, 1, popMax)) {
    throw badApi(`Pop value must be at least 1 and may not be greater than ${popMax}.`);
  }
  const idsMax = limits.maxMessagesPerPage;
  if (ids !== undefined && !inRange(ids.length, 1, idsMax)) {
    throw badApi(`ids parameter should have at least 1 and not greater than ${idsMax} values.`);
  }
}

/** `message_content`: ttl range, then delay range. */
export function checkMessageContent(ttl: number, delay: number, limits: Limits): void {
  if (!inRange(ttl, limits.minMessageTtl, limits.maxMessageTtl)) {
    throw badApi(
      `The TTL for a message may not exceed ${limits.maxMessageTtl} seconds, and must be at least ${limits.minMessageTtl} seconds long.`,
    );
  }
  if (!inRange(delay, 0, limits.maxMessageDelay)) {
    throw badApi(
      `The Delay TTL for a message may not exceed ${limits.maxMessageDelay} seconds,and must be at least 0 seconds long.`,
    );
  }
}

/** `claim_updating`: the claim ttl range. */
export function checkClaimTtl(ttl: number, limits: Limits): void {
  if (!inRange(ttl, limits.minClaimTtl, limits.maxClaimTtl)) {
    throw badApi(
      `The TTL for a claim may not exceed ${limits.maxClaimTtl} seconds, and must be at least ${limits.minClaimTtl} seconds long.`,
    );
  }
}

/** `claim_creation`: ttl, then limit, then grace. */
export function checkClaimCreation(ttl: number, grace: number, limit: number | undefined, limits: Limits): void {
  checkClaimTtl(ttl, limits);
  const max = limits.maxMessagesPerClaimOrPop;
  if (limit !== undefined && !inRange(limit, 1, max)) {
    throw badApi(`Limit must be at least 1 and may not be greater than ${max}.`);
  }
  if (!inRange(grace, limits.minClaimGrace, limits.maxClaimGrace)) {
    throw badApi(
      `The grace for a claim may not exceed ${limits.maxClaimGrace} seconds, and must be at least ${limits.minClaimGrace} seconds long.`,
    );
  }
}
