// The first step of every turn, grouped into one local activity (one worker round): announce the turn,
// load the tenant's settings, resolve what a follow-up inherits, and look up the exact cache.
import type { TenantSettings } from '../../workflows/shared/tenant-settings.ts';
import { UNCACHEABLE_INTENTS } from '../../workflows/shared/tenant-settings.ts';
import type { SessionContext } from '../../workflows/shared/understanding.ts';
import { exactCacheKey, type CachedAnswer } from '../caches/exact-key.ts';
import { readExact } from '../caches/exact-store.ts';
import type { ActivityDeps } from '../deps.ts';
import { ANSWER_PROMPT_VERSION } from '../generate-answer/prompt.ts';
import { loadSessionContext } from '../session/store.ts';
import { loadTenantContext } from '../tenant/store.ts';
import { captureByRules, detectByRules, detectLanguage, isFollowUp, slotSignature } from '../understanding/rules.ts';

/** What the turn knows after its first step. */
export interface OpenTurnOutput {
  tenant: { settings: TenantSettings; generation: number; today: string; timeZone: string };
  language: string;
  /** The session's latest intent and slots, only when the message reads as a follow-up. */
  previous: SessionContext | null;
  /** The exact-cache key of this question (null when the tenant turned the exact cache off). */
  exactKey: string | null;
  hit: CachedAnswer | null;
}

/** Today's date (YYYY-MM-DD) on the tenant's clock. */
export function todayIn(timeZone: string, now: number): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(now));
}

/** The opening activity. */
export function createOpenTurnActivities(deps: Pick<ActivityDeps, 'appDb' | 'kv' | 'events' | 'now'>) {
  return {
    /** Announces the turn, loads tenant settings (and the session's context for a follow-up), looks up the exact cache. */
    async openTurn(input: { stream: string; turnId: string; workflowId: string; tenantId: string; sessionId: string; message: string }): Promise<OpenTurnOutput> {
      const announced = deps.events.publish(input.stream, { type: 'turn', data: { turnId: input.turnId, workflowId: input.workflowId } });
      const followUp = isFollowUp(input.message);
      const [tenant, previous] = await Promise.all([
        loadTenantContext(deps.appDb, deps.kv, input.tenantId),
        followUp ? loadSessionContext(deps.appDb, input.tenantId, input.sessionId) : Promise.resolve(null),
      ]);
      const { settings, generation } = tenant;
      const today = todayIn(settings.timeZone, deps.now());
      const language = detectLanguage(input.message);

      let exactKey: string | null = null;
      let hit: CachedAnswer | null = null;
      if (settings.exactCache.enabled) {
        // The key carries the slots resolved by the deterministic rules on the tenant's clock: "sales last
        // week" asked next week, or "and last month?" after another question, is another key.
        const { slots } = captureByRules(input.message, { today, previous });
        const { intent } = detectByRules(input.message, { slots });
        exactKey = exactCacheKey({ tenantId: input.tenantId, generation, language, promptVersion: ANSWER_PROMPT_VERSION, signature: slotSignature(intent, slots), message: input.message });
        hit = await readExact(deps.kv, exactKey);
        if (hit && UNCACHEABLE_INTENTS.includes(hit.intent)) hit = null;
      }
      await announced;
      return { tenant: { settings, generation, today, timeZone: settings.timeZone }, language, previous, exactKey, hit };
    },
  };
}
