import type pg from 'pg';
import type { ExactCache } from '../infra/exact-cache.ts';
import type { ChatProvider, ProviderName } from '../infra/llm/provider.ts';
import type { TurnEventBus } from '../infra/turn-events.ts';

/** Everything the activities close over; only workers/ and tests build the real clients. */
export interface ActivityDeps {
  cache: ExactCache;
  events: Pick<TurnEventBus, 'publish' | 'publishTerminal'>;
  appDb: Pick<pg.Pool, 'query'>;
  /** Answer providers by name; the workflow picks the order. */
  providers: Partial<Record<ProviderName, ChatProvider>>;
  settings: {
    exactCacheTtlSeconds: number;
    historyWindowTurns: number;
  };
}
