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
    /**
     * Decide on the deterministic rules' slot signature as soon as the search returns, without waiting for
     * the capture and detect model calls (they are stopped on a hit); false: decide on the model's slots.
     */
    decideEarly: boolean;
  };
  understanding: {
    /**
     * When the model's capture and detect run: `always`, or `when-unsure`: only when the rules' understanding
     * (computed in the turn's first step) is below `confidentAt`; above it the rules' reading stands.
     */
    modelMode: 'always' | 'when-unsure';
    /** Rules confidence at or above which `when-unsure` skips the model (calibrated on the golden sets: README). */
    confidentAt: number;
    /** Re-run detect (the reconcile pass) below this confidence. */
    minConfidence: number;
    criticalSlots: string[];
    maxNewSlots: number;
  };
  generation: {
    /** Answer providers in start order; those the deployment has no key for are skipped. */
    providers: AnswerProvider[];
    /** `race`: hedged racing on the first content token; `single`: the next provider only after one fails. */
    strategy: 'race' | 'single';
    /** Delay before the next provider is started while none has sent a token: ms (0 = all at once), or `auto` (the first provider's recent p75 first-token latency). */
    hedgeDelayMs: number | 'auto';
    /** A streaming answer with no token for this long continues on another provider. */
    stallTimeoutMs: number;
    /** Model tier by complexity (fast for simple questions); false: every answer on the strong tier. */
    tiered: boolean;
  };
  pipeline: {
    /** Independent steps at once (guardrail | gathering | capture | detect | search; data | documents); false: one after another (a benchmark's baseline). */
    parallel: boolean;
    /**
     * While the model's understanding runs, start the data, the documents and the answer on the rules'
     * understanding; the answer's tokens are held until the model confirms the route, discarded when it does not.
     */
    speculate: boolean;
    /** Analytics whose slots name a metric the semantic layer knows is compiled to SQL in the product; false: the model always writes it. */
    compileSql: boolean;
  };
  /**
   * Admission (enforced by the API before a turn starts; README, "Admission control and rate limits"):
   * null = no limit. Per-minute limits allow a burst of that many, then refill evenly over the minute.
   */
  limits: {
    turnsPerMinute: number | null;
    concurrentTurns: number | null;
    /** Input + output tokens of the tenant's answered turns per UTC day. */
    dailyTokens: number | null;
    /** The turns' `costUsd` per UTC day. */
    dailyCostUsd: number | null;
    /** The same per API key (each of the tenant's keys alike). */
    perKey: { turnsPerMinute: number | null; concurrentTurns: number | null };
  };
  deadlines: {
    /** Whole-turn deadline: past it, the turn switches to the simplified flow (no retrieval, fast tier). */
    turnMs: number;
    /** Budget of the simplified flow; past it, the canned answer. */
    simplifiedMs: number;
    /** Phase budget of data and documents (SQL agent, retrieval): what is done by then is used. */
    dataMs: number;
  };
}

/** Providers an answer can be raced across. */
export type AnswerProvider = 'anthropic' | 'openai';

/** Defaults: fail closed, caches on with the write-ups' thresholds and lifetimes. */
export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  timeZone: 'UTC',
  guardrails: { failMode: 'closed', deniedTopics: [] },
  exactCache: { enabled: true, ttlSeconds: 3600 },
  semanticCache: { enabled: true, threshold: 0.92, suggestThreshold: 0.7, analyticsTtlSeconds: 36_000, ttlSeconds: 3600, decideEarly: true },
  understanding: { modelMode: 'when-unsure', confidentAt: 0.85, minConfidence: 0.7, criticalSlots: ['orderIds', 'complaint'], maxNewSlots: 3 },
  generation: { providers: ['anthropic', 'openai'], strategy: 'race', hedgeDelayMs: 'auto', stallTimeoutMs: 4000, tiered: true },
  pipeline: { parallel: true, speculate: true, compileSql: true },
  // Far above what one shop's people ask (a turn every 50 ms), so they never stand in a normal user's way; the
  // token budget stops a runaway client (20 M tokens: about 10,000 answered turns a day at 2,000 each).
  limits: { turnsPerMinute: 1200, concurrentTurns: 200, dailyTokens: 20_000_000, dailyCostUsd: null, perKey: { turnsPerMinute: 600, concurrentTurns: 100 } },
  deadlines: { turnMs: 25_000, simplifiedMs: 8000, dataMs: 12_000 },
};

/** Intents whose answers are live or personal (an order's status, a complaint): never served from a cache. */
export const UNCACHEABLE_INTENTS: readonly string[] = ['order_status', 'complaint', 'unknown'];
