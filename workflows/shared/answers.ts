// Fixed answers a turn can end with; shared by the workflow and the guardrail activities.

/** The answer a message blocked by the input guardrail gets. */
export const BLOCKED_ANSWER =
  "I can't help with that request. I can answer questions about your store's sales and orders, or about shipping, returns, warranty, payments, loyalty and privacy.";

/** Replacement when an answer breaks the output policy. */
export const POLICY_FALLBACK_ANSWER =
  "Sorry, I couldn't produce a safe answer to that. Please rephrase your question about your store's data or policies.";

/** Answer when every provider failed: the turn still ends with a `done`. */
export const CANNED_ANSWER =
  "Sorry, I can't answer right now because the answer service is unavailable. Please try again in a minute.";
