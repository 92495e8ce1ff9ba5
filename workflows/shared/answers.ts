// Fixed answers a turn can end with; shared by the workflow and the guardrail activities.
import type { ModelCall } from './contract.ts';

/** The answer a message blocked by the input guardrail gets. */
export const BLOCKED_ANSWER =
  "I can't help with that request. I can answer questions about your store's sales and orders, or about shipping, returns, warranty, payments, loyalty and privacy.";

/** Replacement when an answer breaks the output policy. */
export const POLICY_FALLBACK_ANSWER =
  "Sorry, I couldn't produce a safe answer to that. Please rephrase your question about your store's data or policies.";

/** How every canned answer starts (the rest says what failed). */
export const CANNED_ANSWER_PREFIX = "Sorry, I can't answer right now";

/** Answer when every provider failed and nothing more is known: the turn still ends with a `done`. */
export const CANNED_ANSWER = `${CANNED_ANSWER_PREFIX} because the answer service is unavailable. Please try again in a minute.`;

/** The canned answer's reason when the tenant's analytics database cannot be reached. */
export const DATA_UNAVAILABLE_REASON = "your store's data is unavailable at the moment";

/** The canned answer's reason when the data did not come back within the data phase's budget. */
export const DATA_TOO_SLOW_REASON = "your store's data did not come back in time";

/** What the answer's model calls did, for the canned answer: "anthropic answered 529, openai did not answer in time". */
export function failedCallsText(calls: readonly Pick<ModelCall, 'provider' | 'outcome' | 'status'>[]): string {
  const parts = new Map<string, string>();
  for (const c of calls) {
    if (c.outcome === 'failed') parts.set(c.provider, c.status ? `${c.provider} answered ${c.status}` : `${c.provider} failed`);
    else if (c.outcome === 'timeout' || c.outcome === 'stalled') parts.set(c.provider, `${c.provider} did not answer in time`);
  }
  return [...parts.values()].join(', ');
}

/** The canned answer, saying what failed (e.g. "the answer models are unavailable (anthropic answered 529)"). */
export function cannedAnswer(what?: string): string {
  return what ? `${CANNED_ANSWER_PREFIX}: ${what}. Please try again in a minute.` : CANNED_ANSWER;
}
