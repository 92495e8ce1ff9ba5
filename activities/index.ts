import type { ActivityDeps } from './deps.ts';
import { createExactCacheActivities } from './exact-cache.ts';
import { createGenerateAnswerActivities } from './generate-answer.ts';
import { createGuardrailActivities } from './guardrails.ts';
import { createSessionActivities } from './session.ts';
import { createTurnEventActivities } from './turn-events.ts';

export type { ActivityDeps } from './deps.ts';

/** Every activity of the chat turn, closed over its clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createExactCacheActivities(deps),
    ...createGuardrailActivities(),
    ...createSessionActivities(deps),
    ...createGenerateAnswerActivities(deps),
    ...createTurnEventActivities(deps),
  };
}

/** The activity interface the workflow proxies. */
export type Activities = ReturnType<typeof createActivities>;
