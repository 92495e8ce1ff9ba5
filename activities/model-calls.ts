// Turning a provider call into the `ModelCall` a turn reports: its usage priced twice (as billed, and at the
// list price of the model asked for). Used by every activity that calls a model.
import type { PriceTable } from '../infra/llm/pricing.ts';
import type { ChatProvider } from '../infra/llm/provider.ts';
import type { ModelCall } from '../workflows/shared/contract.ts';

/** A call before pricing; `reportedModel` is what the provider said it used. */
export type UnpricedCall = Omit<ModelCall, 'costUsd' | 'listCostUsd'> & { reportedModel?: string };

/** Prices a call: billed at the provider's `priceAs` (or the reported model), listed at the model asked for. */
export function priceCall(prices: PriceTable, provider: Pick<ChatProvider, 'priceAs'> | undefined, call: UnpricedCall): ModelCall {
  const { reportedModel, ...rest } = call;
  const billedAs = provider?.priceAs ?? reportedModel ?? call.model;
  const out: ModelCall = { ...rest, costUsd: prices.costUsd(billedAs, call.usage), listCostUsd: prices.costUsd(call.model, call.usage) };
  // Optional fields stay absent rather than undefined: payloads and stored JSON stay small and stable.
  for (const k of Object.keys(out) as (keyof ModelCall)[]) if (out[k] === undefined) delete out[k];
  return out;
}
