// What one chat request of the offline model will do, decided up front from the seeded PRNG: fail with an
// injected error, or answer (the rule engine's text, cut at max_tokens) after a drawn first-token time, at
// a drawn pace, maybe with a stall; and the pacing that carries it out.
import { wait } from './http-io.ts';
import type { ProviderProfile, OfflineProvider } from './profiles.ts';
import { restOf, type RuleCall } from './requests.ts';
import { answerFor } from './rules.ts';
import type { ModelState } from './state.ts';
import { limitAnswer } from './text.ts';

/** A standard normal variate by Box–Muller: always exactly two uniforms, so the draw count never varies. */
export function normal(random: () => number): number {
  const u1 = random();
  const u2 = random();
  // 1 - u1 is in (0, 1]: no log(0).
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** What both providers share: PRNG draws, fault injection, the answer, pacing. */
export interface Plan {
  profile: ProviderProfile;
  /** This request's TTFT: the lognormal draw, the slow tail and the jitter applied. */
  ttftMs: number;
  /** When the headers and first frames leave (≤ ttftMs), or null: with the first content piece. */
  headersMs: number | null;
  /** This request's gap between content pieces (from its lognormal tokensPerSec); 0 = unthrottled. */
  intervalMs: number;
  stall: boolean;
  parts: string[];
  text: string;
  truncated: boolean;
}

export function plan(s: ModelState, provider: OfflineProvider, call: RuleCall, maxTokens: number | undefined, model: string): Plan | { failStatus: number; retryAfterSec: number | null } {
  const profile = { ...s.profiles[provider] };
  // Always eight draws in the same order (error, jitter, stall, slow, two for the TTFT's normal, two for the
  // pace's), so request n sees the same numbers whatever the profile: σ = 0 or not, error or not.
  const errorRoll = s.random();
  const jitter = s.random() * profile.jitterMs;
  const stallRoll = s.random();
  const slowRoll = s.random();
  const ttftZ = normal(s.random);
  const tpsZ = normal(s.random);
  if (errorRoll < profile.errorRate) return { failStatus: profile.errorStatus, retryAfterSec: profile.retryAfterSec };

  const perModel = profile.models?.[model] ?? {};
  const ttftMs = profile.ttftMs * (perModel.ttftFactor ?? 1) * Math.exp(profile.ttftSigma * ttftZ) * (slowRoll < profile.slowRate ? profile.slowFactor : 1) + jitter;
  const tps = profile.tokensPerSec * (perModel.tpsFactor ?? 1) * Math.exp(profile.tpsSigma * tpsZ);
  const answer = answerFor(call.rules, s.product);
  const { parts, truncated } = limitAnswer(call.partial === null ? answer : restOf(answer, call.partial), maxTokens);
  return {
    profile,
    ttftMs,
    headersMs: profile.headersMs === null ? null : Math.min(profile.headersMs, ttftMs),
    intervalMs: tps > 0 && Number.isFinite(tps) ? 1000 / tps : 0,
    stall: stallRoll < profile.stallRate,
    parts,
    text: parts.join(''),
    truncated,
  };
}

/**
 * Calls `start` (status, headers, first frames) at headersMs when set, then writes the pieces from the
 * TTFT on, paced, with the optional stall after `stallAfterTokens` pieces. Without headersMs the caller
 * starts the stream with its first piece.
 */
export async function pace(p: Plan, signal: AbortSignal, start: () => void, write: (piece: string) => void): Promise<void> {
  const t0 = performance.now();
  if (p.headersMs !== null) {
    await wait(p.headersMs, signal);
    if (signal.aborted) return;
    start();
  }
  await wait(t0 + p.ttftMs - performance.now(), signal);
  let due = performance.now();
  for (let i = 0; i < p.parts.length; i++) {
    if (i === p.profile.stallAfterTokens && p.stall) due += p.profile.stallMs;
    if (i > 0) due += p.intervalMs;
    const delay = due - performance.now();
    if (delay >= 1) await wait(delay, signal);
    if (signal.aborted) return;
    write(p.parts[i]!);
  }
}

/** Non-streaming responses take as long as the stream would have: TTFT, stall, then the rest of the tokens. */
export async function waitWhole(p: Plan, signal: AbortSignal): Promise<void> {
  const stall = p.stall && p.parts.length > p.profile.stallAfterTokens ? p.profile.stallMs : 0;
  await wait(p.ttftMs + stall + Math.max(0, p.parts.length - 1) * p.intervalMs, signal);
}
