// Per-tenant settings: their shape and defaults. The zod schema that validates updates lives with the
// tenant capability (activities/tenant/settings.ts); the workflow only reads these plain values.

/** A topic a tenant's assistant must not discuss: any of its phrases in a message denies the turn. */
export interface DeniedTopic {
  name: string;
  phrases: string[];
}

/** Everything a tenant can set; stored as JSON in `tenants.settings`, merged over the defaults. */
export interface TenantSettings {
  /** IANA time zone of the shop: relative dates ("last week") are resolved on this clock. */
  timeZone: string;
  guardrails: {
    /** What a failed input check means: `closed` blocks the turn, `open` lets it through (flagged in `done.guardrail.failOpen`). */
    failMode: 'closed' | 'open';
    deniedTopics: DeniedTopic[];
  };
  exactCache: { enabled: boolean; ttlSeconds: number };
  semanticCache: {
    enabled: boolean;
    /** Cosine similarity at or above which a cached answer with the same slot signature is served. */
    threshold: number;
    /** At or above this (but below `threshold`) the turn offers the cached question as `done.suggestion`. */
    suggestThreshold: number;
    /** Lifetime of analytics answers (10 h, as in the e-commerce write-up). */
    analyticsTtlSeconds: number;
    /** Lifetime of every other cacheable answer. */
    ttlSeconds: number;
  };
  understanding: { minConfidence: number; criticalSlots: string[]; maxNewSlots: number };
}

/** Defaults: fail closed, caches on with the write-ups' thresholds and lifetimes. */
export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  timeZone: 'UTC',
  guardrails: { failMode: 'closed', deniedTopics: [] },
  exactCache: { enabled: true, ttlSeconds: 3600 },
  semanticCache: { enabled: true, threshold: 0.92, suggestThreshold: 0.7, analyticsTtlSeconds: 36_000, ttlSeconds: 3600 },
  understanding: { minConfidence: 0.7, criticalSlots: ['orderIds', 'complaint'], maxNewSlots: 3 },
};

/** Intents whose answers are live or personal (an order's status, a complaint): never served from a cache. */
export const UNCACHEABLE_INTENTS: readonly string[] = ['order_status', 'complaint', 'unknown'];
