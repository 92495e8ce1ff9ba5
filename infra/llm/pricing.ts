// What model calls cost: a price table (list prices, overridable with MODEL_PRICES) and the cost of one
// call's usage. Two figures per call: at the price of the model that answered (what was billed; the
// offline model costs nothing), and at the list price of the model that was asked for (what the same
// tokens cost on that model, so the benchmark's cost column means something offline).
import type { Usage } from '../../workflows/shared/contract.ts';

/** USD per million tokens. */
/** The model name the offline model (the development stand-in) answers as; priced at nothing. */
export const OFFLINE_MODEL_NAME = 'offline-model';

export interface Price {
  input: number;
  output: number;
  /** Cached-input price where it differs from the default 0.1× input. */
  cacheRead?: number;
  /** Cache-write price where it differs from the default 1.25× input (Anthropic's 5-minute writes). */
  cacheWrite?: number;
}

// List prices, USD per million tokens. Anthropic: cache reads 0.1× input, 5-minute cache writes 1.25× input.
// OpenAI: caching is automatic and writes cost nothing extra (the provider reports no writes);
// its cached-input price is listed per model because it is not always 0.1×.
export const LIST_PRICES: Readonly<Record<string, Price>> = {
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
  // A local rule engine, not a paid model: it is priced as what it is.
  [OFFLINE_MODEL_NAME]: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
};

// A dated snapshot or alias of a listed model; anything else (e.g. `claude-opus-4-7` next to `claude-opus-4`)
// is a different model with its own price, so it stays unknown rather than borrowing a wrong one.
const SNAPSHOT = /^-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/;

/** Prices by model name; unknown models cost 0 (and `known` says so). */
export interface PriceTable {
  priceOf(model: string): Price | undefined;
  /** Cost in USD of one call's usage, rounded to a billionth of a dollar. */
  costUsd(model: string, usage: Usage): number;
}

/** The list prices with `overrides` (MODEL_PRICES) merged over them. */
export function createPriceTable(overrides: Record<string, Price> = {}): PriceTable {
  const prices: Record<string, Price> = { ...LIST_PRICES };
  for (const [model, price] of Object.entries(overrides)) prices[model.toLowerCase()] = price;
  const keys = Object.keys(prices).sort((a, b) => b.length - a.length);
  const priceOf = (model: string): Price | undefined => {
    const m = model.toLowerCase();
    const exact = prices[m];
    if (exact) return exact;
    const key = keys.find((k) => m.startsWith(k) && SNAPSHOT.test(m.slice(k.length)));
    return key ? prices[key] : undefined;
  };
  return {
    priceOf,
    costUsd(model, usage) {
      const p = priceOf(model);
      if (!p) return 0;
      const cacheRead = p.cacheRead ?? p.input * 0.1;
      const cacheWrite = p.cacheWrite ?? p.input * 1.25;
      const usd = (usage.inputTokens * p.input + usage.outputTokens * p.output + usage.cacheReadTokens * cacheRead + usage.cacheWriteTokens * cacheWrite) / 1e6;
      return Math.round(usd * 1e9) / 1e9;
    },
  };
}

const LIST = createPriceTable();

/** Cost in USD of one call's usage at list prices; unknown models cost 0. */
export function costUsd(model: string, usage: Usage): number {
  return LIST.costUsd(model, usage);
}
