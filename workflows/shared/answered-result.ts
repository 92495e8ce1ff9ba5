// The result of a generated answer, built the same way by the answer activity (which publishes `done`
// the moment the answer is complete) and by the workflow (for turns it delivers itself). Pure: no I/O.
import { callTotals, type GenerationSummary, type ModelCall, type TurnResult, type Usage } from './contract.ts';

/** What generation adds to the turn's result. */
export interface GeneratedParts {
  provider: string;
  model: string;
  /** Every model call of the answer step (its race, failed attempts included). */
  calls?: ModelCall[];
  /** The answer step's own usage and cost (turns without `calls`, before they were reported). */
  usage: Usage;
  costUsd: number;
  generation?: GenerationSummary;
  sources: { slug: string; title: string }[];
  ttftMs: number | null;
  /** PII redacted from the stream. */
  redactions: number;
}

/** The output check's verdict on the whole answer. */
export interface OutputCheck {
  answer: string;
  redactions: number;
  violations: string[];
}

/** What the turn knew before generation that the guardrail summary needs. */
export interface DraftExtras {
  /** Redactions the input guardrail made. */
  inputRedactions: number;
  /** The input check failed and the tenant lets such turns through. */
  failOpen: boolean;
  chart?: { id: string; svgUrl: string; pngUrl: string };
}

/** Fallbacks an answer's calls imply: a provider that failed while another answered, a stall that failed over. */
export function generationFallbacks(calls: readonly ModelCall[], winner: string | null): string[] {
  const out: string[] = [];
  for (const c of calls) {
    const name = c.outcome === 'failed' && c.provider !== winner ? `generateAnswer:${c.provider}` : c.outcome === 'stalled' ? 'generateAnswer:failover' : null;
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * `draft` (the turn's result before generation: understanding, slots, fallbacks, steps, earlier calls)
 * completed by the answer: its text after the output check, provider, usage and cost of every call,
 * timings, sources, chart and the guardrail summary.
 */
export function answeredTurnResult(draft: TurnResult, g: GeneratedParts, output: OutputCheck, extras: DraftExtras, timing: { totalMs: number; steps: Record<string, number> }): TurnResult {
  const calls = [...(draft.calls ?? []), ...(g.calls ?? [])];
  const redactions = g.redactions + output.redactions + extras.inputRedactions;
  const fallbacks = [...draft.fallbacks];
  for (const f of generationFallbacks(g.calls ?? [], g.provider)) if (!fallbacks.includes(f)) fallbacks.push(f);
  return {
    ...draft,
    answer: output.answer,
    provider: g.provider,
    model: g.model,
    // Answers of turns started before calls were reported (v2 histories) carry their usage themselves.
    ...(g.calls ? { ...callTotals(calls), calls } : { usage: g.usage, costUsd: g.costUsd }),
    ...(g.generation ? { generation: g.generation } : {}),
    ...(g.sources.length ? { sources: g.sources } : {}),
    ...(extras.chart ? { chart: extras.chart } : {}),
    fallbacks,
    timings: { totalMs: timing.totalMs, ttftMs: g.ttftMs, steps: timing.steps },
    ...(redactions + output.violations.length > 0 || extras.failOpen
      ? { guardrail: { blocked: output.violations.length > 0, reasons: output.violations, redactions, ...(extras.failOpen ? { failOpen: true } : {}) } }
      : {}),
  };
}
