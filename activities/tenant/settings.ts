// Validation and merging of tenant settings (shape and defaults: workflows/shared/tenant-settings.ts).
import { z } from 'zod';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../workflows/shared/tenant-settings.ts';

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const probability = z.number().min(0).max(1);
const ttl = z.number().int().min(1).max(30 * 86_400);

/** A settings update: every field optional, unknown fields refused (a typo must not pass silently). */
export const tenantSettingsPatch = z
  .object({
    timeZone: z.string().refine(validTimeZone, 'not an IANA time zone (e.g. Europe/Berlin)'),
    guardrails: z
      .object({
        failMode: z.enum(['closed', 'open']),
        deniedTopics: z
          .array(z.object({ name: z.string().min(1).max(80), phrases: z.array(z.string().trim().min(2).max(120)).min(1).max(50) }).strict())
          .max(50),
      })
      .partial()
      .strict(),
    exactCache: z.object({ enabled: z.boolean(), ttlSeconds: ttl }).partial().strict(),
    semanticCache: z
      .object({ enabled: z.boolean(), threshold: probability, suggestThreshold: probability, analyticsTtlSeconds: ttl, ttlSeconds: ttl, decideEarly: z.boolean() })
      .partial()
      .strict(),
    understanding: z
      .object({ modelMode: z.enum(['always', 'when-unsure']), confidentAt: probability, minConfidence: probability, criticalSlots: z.array(z.string().min(1)).max(20), maxNewSlots: z.number().int().min(0).max(20) })
      .partial()
      .strict(),
    generation: z
      .object({
        providers: z
          .array(z.enum(['anthropic', 'openai']))
          .min(1)
          .max(2)
          .refine((p) => new Set(p).size === p.length, 'lists a provider twice'),
        strategy: z.enum(['race', 'single']),
        hedgeDelayMs: z.union([z.literal('auto'), z.number().int().min(0).max(30_000)]),
        stallTimeoutMs: z.number().int().min(200).max(60_000),
        tiered: z.boolean(),
      })
      .partial()
      .strict(),
    pipeline: z.object({ parallel: z.boolean(), speculate: z.boolean(), compileSql: z.boolean() }).partial().strict(),
    limits: z
      .object({
        turnsPerMinute: z.number().int().min(1).max(1_000_000).nullable(),
        concurrentTurns: z.number().int().min(1).max(100_000).nullable(),
        dailyTokens: z.number().int().min(1).nullable(),
        dailyCostUsd: z.number().positive().nullable(),
        perKey: z
          .object({ turnsPerMinute: z.number().int().min(1).max(1_000_000).nullable(), concurrentTurns: z.number().int().min(1).max(100_000).nullable() })
          .partial()
          .strict(),
      })
      .partial()
      .strict(),
    deadlines: z
      .object({
        turnMs: z.number().int().min(1000).max(120_000),
        simplifiedMs: z.number().int().min(500).max(60_000),
        dataMs: z.number().int().min(500).max(120_000),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export type TenantSettingsPatch = z.infer<typeof tenantSettingsPatch>;

/** Stored settings (or a patch) merged over `base`, one level deep. */
export function mergeSettings(base: TenantSettings, patch: TenantSettingsPatch): TenantSettings {
  const merged: TenantSettings = {
    timeZone: patch.timeZone ?? base.timeZone,
    guardrails: { ...base.guardrails, ...patch.guardrails },
    exactCache: { ...base.exactCache, ...patch.exactCache },
    semanticCache: { ...base.semanticCache, ...patch.semanticCache },
    understanding: { ...base.understanding, ...patch.understanding },
    generation: { ...base.generation, ...patch.generation },
    pipeline: { ...base.pipeline, ...patch.pipeline },
    deadlines: { ...base.deadlines, ...patch.deadlines },
    limits: { ...base.limits, ...patch.limits, perKey: { ...base.limits.perKey, ...patch.limits?.perKey } },
  };
  if (merged.semanticCache.suggestThreshold > merged.semanticCache.threshold) {
    throw new z.ZodError([{ code: 'custom', path: ['semanticCache', 'suggestThreshold'], message: 'must not exceed semanticCache.threshold', input: patch }]);
  }
  return merged;
}

/** Settings as stored (JSON) → full settings; a stored value that no longer validates falls back to the defaults field by field. */
export function settingsFromStored(stored: unknown): TenantSettings {
  const parsed = tenantSettingsPatch.safeParse(stored ?? {});
  if (parsed.success) return mergeSettings(DEFAULT_TENANT_SETTINGS, parsed.data);
  return DEFAULT_TENANT_SETTINGS;
}
