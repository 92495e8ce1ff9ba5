import { createCacheActivities } from './caches/activities.ts';
import type { ActivityDeps } from './deps.ts';
import { createGatherActivities } from './gather/activities.ts';
import { createGenerateAnswerActivities } from './generate-answer/activities.ts';
import { createGuardrailActivities } from './guardrails/activities.ts';
import { createKnowledgeActivities } from './knowledge/activities.ts';
import { createOpenTurnActivities } from './open-turn/activities.ts';
import { createSessionActivities } from './session/activities.ts';
import { createSqlActivities } from './sql/activities.ts';
import { createProvisioningActivities } from './tenant/provision.ts';
import { createTurnEventActivities } from './turn-events/activities.ts';
import { createUnderstandingActivities } from './understanding/activities.ts';

export type { ActivityDeps } from './deps.ts';

/** Every activity of the chat turn, closed over its clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOpenTurnActivities(deps),
    ...createGuardrailActivities(),
    ...createGatherActivities(deps),
    ...createUnderstandingActivities(deps),
    ...createCacheActivities(deps),
    ...createKnowledgeActivities(deps),
    ...createSqlActivities(deps),
    ...createGenerateAnswerActivities(deps),
    ...createSessionActivities(deps),
    ...createTurnEventActivities(deps),
    ...createProvisioningActivities(deps),
  };
}

/** The activity interface the workflow proxies. */
export type Activities = ReturnType<typeof createActivities>;
