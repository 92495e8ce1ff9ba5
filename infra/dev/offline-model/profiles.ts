// The offline model's latency and fault profiles per provider: the fields, the defaults, validation, and
// OFFLINE_MODEL_PROFILES parsing.
import { z } from 'zod';

/** The two wire formats the offline model speaks. */
export type OfflineProvider = 'anthropic' | 'openai';

/**
 * Latency and fault behaviour of one provider's endpoint. A request's TTFT is
 * `ttftMs · exp(ttftSigma·N(0,1))`, times `slowFactor` with probability `slowRate`, plus 0..jitterMs.
 */
export interface ProviderProfile {
  /** Median delay before the first token (and the base of a non-streaming response's duration). */
  ttftMs: number;
  /** σ of the lognormal TTFT around the median `ttftMs`; 0 = always `ttftMs`. */
  ttftSigma: number;
  /** 0..1 probability the TTFT (after the lognormal draw) is multiplied by `slowFactor`: a queueing tail. */
  slowRate: number;
  /** ≥ 1; see `slowRate`. */
  slowFactor: number;
  /** Median streaming pace after the first token; 0 or Infinity = as fast as possible. */
  tokensPerSec: number;
  /** σ of the lognormal per-request pace around the median `tokensPerSec`; 0 = always `tokensPerSec`. */
  tpsSigma: number;
  /**
   * When set, a stream's status, headers and first frames (Anthropic message_start, content_block_start,
   * ping; OpenAI the `role: assistant` chunk) leave after this many ms (capped at the TTFT), and the content
   * at the TTFT. null (default) = all of them together with the first content token.
   */
  headersMs: number | null;
  /** 0..1 probability a request fails with `errorStatus` (before any token). */
  errorRate: number;
  /** E.g. 529 (Anthropic overloaded), 503, 500, 429. */
  errorStatus: number;
  /** When set, injected errors carry `retry-after: <seconds>`; null (default) = no such header. */
  retryAfterSec: number | null;
  /** 0..1 probability a stream stalls for `stallMs` after `stallAfterTokens` content pieces (then continues). */
  stallRate: number;
  stallMs: number;
  /** Content pieces written before a stall; default 1. */
  stallAfterTokens: number;
  /** Uniform extra 0..jitterMs added to the TTFT, drawn from the seeded PRNG. */
  jitterMs: number;
  /**
   * Per model asked for: its TTFT multiplied by `ttftFactor` and its pace by `tpsFactor` (a strong tier
   * slower than the fast one, as with the real models). Models not listed run at the profile's pace.
   */
  models?: Record<string, { ttftFactor?: number; tpsFactor?: number }>;
}

/** The fields added after the first profiles: no tails, no early headers, no retry-after, stalls after the first piece. */
export const TAIL_DEFAULTS = {
  ttftSigma: 0,
  slowRate: 0,
  slowFactor: 1,
  tpsSigma: 0,
  headersMs: null,
  retryAfterSec: null,
  stallAfterTokens: 1,
} as const satisfies Partial<ProviderProfile>;

/** Demo latency close to what the hosted APIs feel like; no faults. */
export const DEFAULT_PROFILES: Record<OfflineProvider, ProviderProfile> = {
  anthropic: { ...TAIL_DEFAULTS, ttftMs: 350, tokensPerSec: 90, errorRate: 0, errorStatus: 529, stallRate: 0, stallMs: 0, jitterMs: 100 },
  openai: { ...TAIL_DEFAULTS, ttftMs: 300, tokensPerSec: 80, errorRate: 0, errorStatus: 503, stallRate: 0, stallMs: 0, jitterMs: 100 },
};

/** No latency at all: what remains of a turn's time is pure orchestration cost. */
export const ZERO_LATENCY_PROFILE: ProviderProfile = {
  ...TAIL_DEFAULTS,
  ttftMs: 0,
  tokensPerSec: 0,
  errorRate: 0,
  errorStatus: 500,
  stallRate: 0,
  stallMs: 0,
  jitterMs: 0,
};

export const profileSchema = z
  .object({
    ttftMs: z.number().min(0),
    ttftSigma: z.number().min(0),
    slowRate: z.number().min(0).max(1),
    slowFactor: z.number().min(1),
    tokensPerSec: z.number().min(0),
    tpsSigma: z.number().min(0),
    // null = unset again (JSON has no undefined).
    headersMs: z.number().min(0).nullable(),
    errorRate: z.number().min(0).max(1),
    errorStatus: z.number().int().min(400).max(599),
    retryAfterSec: z.number().min(0).nullable(),
    stallRate: z.number().min(0).max(1),
    stallMs: z.number().min(0),
    stallAfterTokens: z.number().int().min(1),
    jitterMs: z.number().min(0),
    models: z.record(z.string().min(1), z.object({ ttftFactor: z.number().positive(), tpsFactor: z.number().positive() }).partial().strict()),
  })
  .partial()
  .strict();
export const profilesSchema = z.object({ anthropic: profileSchema.optional(), openai: profileSchema.optional() }).strict();

export type ProfileOverrides = Partial<Record<OfflineProvider, Partial<ProviderProfile>>>;

export function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Parses OFFLINE_MODEL_PROFILES, e.g. '{"anthropic":{"ttftMs":0,"tokensPerSec":0}}'; unset or blank = no overrides. */
export function parseProfilesEnv(value: string | undefined): ProfileOverrides {
  if (value === undefined || value.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    throw new Error(`OFFLINE_MODEL_PROFILES is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = profilesSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `OFFLINE_MODEL_PROFILES has an invalid shape (${issuesText(parsed.error)}); expected e.g. {"anthropic":{"ttftMs":0,"tokensPerSec":0},"openai":{"errorRate":0.1}}`,
    );
  }
  return parsed.data;
}
