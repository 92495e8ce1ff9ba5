// Parallel gathering of what the answer needs: session history, user profile and the tenant schema, each
// with its own timeout and fallback value, in one local activity (one worker round instead of three).
import type { HistoryMessage } from '../../workflows/shared/contract.ts';
import type { ActivityDeps } from '../deps.ts';
import { loadHistory } from '../session/store.ts';
import { loadProfile, type UserProfile } from './profile-store.ts';
import { loadTenantSchema } from '../sql/schema.ts';

/** What `gatherContext` returns; `fallbacks` names the parts that timed out or failed. */
export interface GatheredContext {
  history: HistoryMessage[];
  profile: UserProfile | null;
  schema: { version: string; tables: number } | null;
  fallbacks: string[];
}

/** Resolves `fn`, or `fallback` after `ms` or on error (the part is then listed as a fallback). */
async function part<T>(name: string, ms: number, fn: () => Promise<T>, fallback: T, fallbacks: string[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } catch {
    fallbacks.push(name);
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}

/** The gathering activity. */
export function createGatherActivities(deps: Pick<ActivityDeps, 'appDb' | 'tenantDb' | 'kv' | 'settings'>) {
  return {
    /** History (never cached: it must include the last turn), profile (cached 5 min), schema summary (15 min), in parallel. */
    async gatherContext(input: { tenantId: string; sessionId: string; userId?: string }): Promise<GatheredContext> {
      const fallbacks: string[] = [];
      const { historyWindowTurns: turns, historyWindowTokens: tokens, gatherTimeoutMs: ms } = deps.settings;
      const [history, profile, schema] = await Promise.all([
        part('history', ms, () => loadHistory(deps.appDb, { tenantId: input.tenantId, sessionId: input.sessionId, turns, tokens }), [], fallbacks),
        part('profile', ms, () => loadProfile(deps.appDb, deps.kv, input.tenantId, input.userId), null, fallbacks),
        part(
          'schema',
          ms,
          async () => {
            const schema = await loadTenantSchema(deps, input.tenantId);
            return { version: schema.version, tables: Object.keys(schema.tables).length };
          },
          null,
          fallbacks,
        ),
      ]);
      return { history, profile, schema, fallbacks };
    },
  };
}
