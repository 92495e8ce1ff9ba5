import type { Usage } from '../../workflows/shared/contract.ts';

/** USD per million tokens. */
interface Price {
  input: number;
  output: number;
  /** Cached-input price where the provider lists one that differs from the default 0.1× input. */
  cacheRead?: number;
}

// List prices, USD per million tokens. Anthropic: cache reads 0.1× input, 5-minute cache writes 1.25× input.
// OpenAI: caching is automatic and writes cost nothing extra (the provider reports no writes);
// its cached-input price is listed per model because it is not always 0.1×.
const PRICES: Record<string, Price> = {
  'claude-opus-5-5': { input: 4, output: 20 },
  'claude-opus-5': { input: 5, output: 25 },
  'claude-sonnet-5-5': { input: 2, output: 10 },
  'claude-sonnet-5': { input: 2, output: 10 },
  'claude-opus-4-6': { input: 5, output: 25 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheRead: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075 },
  'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005 },
};
// The offline model costs nothing, but is priced as the default Anthropic model so the benchmark's cost
// column (and the effect of caching on it) stays meaningful.
PRICES['offline-model'] = PRICES['claude-haiku-4-5']!;

// A dated snapshot or alias of a listed model; anything else (e.g. `claude-opus-4-7` next to `claude-opus-4`)
// is a different model with its own price, so it stays unknown rather than borrowing a wrong one.
const SNAPSHOT = /^-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/;

/** Price of a model by exact name or dated snapshot; undefined if unknown. */
function priceOf(model: string): Price | undefined {
  const m = model.toLowerCase();
  const exact = PRICES[m];
  if (exact) return exact;
  const key = Object.keys(PRICES).find((k) => m.startsWith(k) && SNAPSHOT.test(m.slice(k.length)));
  return key ? PRICES[key] : undefined;
}

/** Cost in USD of one call's usage; unknown models cost 0. */
export function costUsd(model: string, usage: Usage): number {
  const p = priceOf(model);
  if (!p) return 0;
  const cacheRead = p.cacheRead ?? p.input * 0.1;
  const usd =
    (usage.inputTokens * p.input + usage.outputTokens * p.output + usage.cacheReadTokens * cacheRead + usage.cacheWriteTokens * p.input * 1.25) / 1e6;
  // Rounded to a billionth of a dollar so sums print cleanly.
  return Math.round(usd * 1e9) / 1e9;
}
