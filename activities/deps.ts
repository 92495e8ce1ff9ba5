import type pg from 'pg';
import type { Queryable } from '../infra/db.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import type { Embedder } from '../infra/llm/embeddings.ts';
import type { PriceTable } from '../infra/llm/pricing.ts';
import type { ChatProvider, ProviderName } from '../infra/llm/provider.ts';
import type { TenantTemplates } from './tenant/templates.ts';
import type { TurnEventBus } from './turn-events/bus.ts';

/** Everything the activities close over; only workers/ and tests build the real clients. */
export interface ActivityDeps {
  /** Shared cache (Redis, or in-process): exact answers, tenant settings, profiles, schema summaries. */
  kv: KvCache;
  // subscribe: a speculative answer waits on its turn's gate stream.
  events: Pick<TurnEventBus, 'publish' | 'publishTerminal' | 'subscribe' | 'claim'>;
  /** App store: turns, tenants, profiles, the semantic cache. */
  appDb: Queryable;
  /** Tenant analytics data: schema reads, and the SQL agent's read-only transactions (one connection each). */
  tenantDb: Queryable & Pick<pg.Pool, 'connect'>;
  /** Answer providers by name; the workflow picks the order. */
  providers: Partial<Record<ProviderName, ChatProvider>>;
  embedder: Embedder;
  /** Model prices (list prices with MODEL_PRICES over them): every model call's cost. */
  prices: PriceTable;
  settings: {
    historyWindowTurns: number;
    historyWindowTokens: number;
    /** Bound of each gathered part (history, profile, schema summary). */
    gatherTimeoutMs: number;
    /** Bound of a capture or detect model call before the rules answer instead. */
    understandingTimeoutMs: number;
    understandingProvider: ProviderName;
    embeddingTimeoutMs: number;
    /** statement_timeout of generated SQL. */
    sqlTimeoutMs: number;
    /** Row cap of generated SQL (LIMIT enforced by the guard). */
    sqlMaxRows: number;
    /** Model attempts of the SQL agent (first try plus self-corrections). */
    sqlMaxAttempts: number;
  };
  /** Shops a new tenant can start from (the demo tenants, injected by the wiring); absent: only empty tenants. */
  templates?: TenantTemplates;
  /** Clock (tests pin it). */
  now: () => number;
  /** Prometheus metrics of this process: `finishTurn` counts each turn once (absent: nothing recorded). */
  metrics?: Pick<import('../infra/metrics.ts').Metrics, 'recordTurn'>;
}
