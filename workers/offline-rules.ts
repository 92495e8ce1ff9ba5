// What the offline model (the dev runtime's stand-in for the providers) answers with of the product: its
// understanding rules and prompt readers, so the model path and the rules fallback agree offline. Wiring
// passes it in; the dev runtime never imports the product.
import type { ProductRules } from '../infra/dev/offline-model/rules.ts';
import { readSqlPrompt } from '../activities/sql/prompts.ts';
import { compileSlotsToSql } from '../activities/sql/semantic-layer.ts';
import { readUnderstandingPrompt } from '../activities/understanding/prompts.ts';
import { captureByRules, detectByRules } from '../activities/understanding/rules.ts';

/** The product's logic for `startOfflineModel({ product })`, `answerFor` and `ruleFor`. */
export const productRules: ProductRules = { readUnderstandingPrompt, readSqlPrompt, captureByRules, detectByRules, compileSlotsToSql };
