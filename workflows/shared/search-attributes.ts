import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './contract.ts';

/** Tenant of the turn: filter `TenantId = "acme"` in the Web UI. */
export const TenantIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.tenantId, SearchAttributeType.KEYWORD);
/** Chat session of the turn. */
export const SessionIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.sessionId, SearchAttributeType.KEYWORD);
/** exact | semantic | none | blocked | fallback, set when the turn knows it. */
export const CacheOutcomeKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.cacheOutcome, SearchAttributeType.KEYWORD);
/** Detected intent (analytics, knowledge, order_status, complaint, small_talk, out_of_scope, unknown). */
export const IntentKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.intent, SearchAttributeType.KEYWORD);
/** True when any fallback value or branch was used (`done.fallbacks` is not empty). */
export const FallbackUsedKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.fallbackUsed, SearchAttributeType.BOOL);
