/**
 * REST-side checks in the order of Zaqar's transport validation (`zaqar/transport/validation.py`):
 * REST validates some parameters before anything else is looked at, so these run first. The
 * rules and their texts are the core's (`core/rules.ts`), which checks them again.
 */
import type { Limits } from '../../core/limits.js';
import * as rules from '../../core/rules.js';
import { badApi } from './http-error.js';

/** Queue listing page size. */
export function checkQueueLimit(limit: number | undefined, limits: Limits): void {
  rules.queuePageLimit(limit, limits);
}

/** Message listing page size, and the number of ids of a get-many. */
export function checkMessageLimit(limit: number | undefined, limits: Limits): void {
  rules.pageLimit(limit, limits.maxMessagesPerPage, limits.defaultPageSize);
}

export function checkSubscriptionLimit(limit: number | undefined, limits: Limits): void {
  rules.pageLimit(limit, limits.maxSubscriptionsPerPage, limits.defaultPageSize);
}

/** `message_deletion`: exactly one of ids / pop, each within its bounds. */
export function checkDeletion(ids: string[] | undefined, pop: number | undefined, limits: Limits): void {
  if (pop !== undefined && ids !== undefined) {
    throw badApi('pop and id params cannot be present together in the delete request.');
  }
  if (pop === undefined && ids === undefined) {
    throw badApi('The request should have either "ids" or "pop" parameter in the request, to be able to delete.');
  }
  if (pop !== undefined) rules.popCount(pop, limits);
  if (ids !== undefined) rules.deleteIds(ids, limits);
}

/** `message_content`: ttl range, then delay range. */
export function checkMessageContent(ttl: number, delay: number, limits: Limits): void {
  rules.messageTtl(ttl, limits);
  rules.messageDelay(delay, limits);
}

/** `claim_updating`: the claim ttl range. */
export function checkClaimTtl(ttl: number, limits: Limits): void {
  rules.claimTtl(ttl, limits);
}

/** `claim_creation`: ttl, then limit, then grace. */
export function checkClaimCreation(ttl: number, grace: number, limit: number | undefined, limits: Limits): void {
  rules.claimTtl(ttl, limits);
  rules.pageLimit(limit, limits.maxMessagesPerClaimOrPop, limits.defaultPageSize);
  rules.claimGrace(grace, limits);
}
