// What a turn knows before anything else: the tenant's settings and cache generation, what a follow-up
// inherits from the session, and whether the exact cache already has the answer. Shared by the turn's
// first activity and by the API, which answers an exact hit itself (no Temporal round trip in its way).
import type { Queryable } from '../../infra/db.ts';
import type { KvCache } from '../../infra/kv-cache.ts';
import type { TenantSettings } from '../../workflows/shared/tenant-settings.ts';
import { UNCACHEABLE_INTENTS } from '../../workflows/shared/tenant-settings.ts';
import type { Complexity, IntentOrUnknown, SessionContext, Slots } from '../../workflows/shared/understanding.ts';
import { exactCacheKey, type CachedAnswer } from '../caches/exact-key.ts';
import { readExact } from '../caches/exact-store.ts';
import { ANSWER_PROMPT_VERSION } from '../generate-answer/prompt.ts';
import { loadSessionContext } from '../session/store.ts';
import { loadTenantContext } from '../tenant/store.ts';
import { detectLanguage } from '../understanding/language.ts';
import { captureByRules, detectByRules, isFollowUp, slotSignature } from '../understanding/rules.ts';

/** What the turn knows after its first step. */
export interface OpenTurnOutput {
  tenant: { settings: TenantSettings; generation: number; today: string; timeZone: string };
  language: string;
  /** The session's latest intent and slots, only when the message reads as a follow-up. */
  previous: SessionContext | null;
  /** The exact-cache key of this question (null when the tenant turned the exact cache off). */
  exactKey: string | null;
  hit: CachedAnswer | null;
  /**
   * What the deterministic rules make of the question, within a millisecond: the semantic cache decides on
   * it before any model call returns, and when the rules are confident the turn goes on it alone
   * (`understanding.modelMode`); otherwise the data, documents and answer start on it while the model checks.
   */
  rules?: RulesUnderstanding;
}

/** The rules' understanding of a question (reconciled: detect saw the captured slots). */
export interface RulesUnderstanding {
  intent: IntentOrUnknown;
  signature: string;
  /** Absent in turns recorded before the rules' full reading was kept. */
  confidence?: number;
  complexity?: Complexity;
  slots?: Slots;
  inherited?: string[];
}

// A formatter per time zone, made once: building one costs about a millisecond of CPU, more than the rest of the lookup.
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** Today's date (YYYY-MM-DD) on the tenant's clock. */
export function todayIn(timeZone: string, now: number): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    // en-CA formats as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    if (dayFormats.size >= 1000) dayFormats.clear();
    dayFormats.set(timeZone, format);
  }
  return format.format(new Date(now));
}

/** Loads the tenant's settings (and the session's context for a follow-up) and looks up the exact cache. */
export async function openTurnContext(
  deps: { appDb: Queryable; kv: Pick<KvCache, 'get' | 'set'>; now: () => number },
  input: { tenantId: string; sessionId: string; message: string },
): Promise<OpenTurnOutput> {
  const followUp = isFollowUp(input.message);
  const [tenant, previous] = await Promise.all([
    loadTenantContext(deps.appDb, deps.kv, input.tenantId),
    followUp ? loadSessionContext(deps.appDb, input.tenantId, input.sessionId) : Promise.resolve(null),
  ]);
  const { settings, generation } = tenant;
  const today = todayIn(settings.timeZone, deps.now());
  const language = detectLanguage(input.message);

  // The slots resolved by the deterministic rules on the tenant's clock: "sales last week" asked next week,
  // or "and last month?" after another question, is another key (and another semantic signature).
  const { slots, inherited } = captureByRules(input.message, { today, previous });
  const { intent, confidence, complexity } = detectByRules(input.message, { slots });
  const signature = slotSignature(intent, slots);
  let exactKey: string | null = null;
  let hit: CachedAnswer | null = null;
  if (settings.exactCache.enabled) {
    exactKey = exactCacheKey({ tenantId: input.tenantId, generation, language, promptVersion: ANSWER_PROMPT_VERSION, signature, message: input.message });
    hit = await readExact(deps.kv, exactKey);
    if (hit && UNCACHEABLE_INTENTS.includes(hit.intent)) hit = null;
  }
  return { tenant: { settings, generation, today, timeZone: settings.timeZone }, language, previous, exactKey, hit, rules: { intent, signature, confidence, complexity, slots, inherited } };
}
