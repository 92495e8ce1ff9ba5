// The first step of every turn, grouped into one local activity (one worker round): announce the turn,
// load the tenant's settings, resolve what a follow-up inherits, and look up the exact cache.
import type { ActivityDeps } from '../deps.ts';
import { openTurnContext, type OpenTurnOutput } from './open.ts';

export { todayIn, type OpenTurnOutput } from './open.ts';

/** The opening activity. */
export function createOpenTurnActivities(deps: Pick<ActivityDeps, 'appDb' | 'kv' | 'events' | 'now'>) {
  return {
    /** Announces the turn, loads tenant settings (and the session's context for a follow-up), looks up the exact cache. */
    async openTurn(input: { stream: string; turnId: string; workflowId: string; tenantId: string; sessionId: string; message: string }): Promise<OpenTurnOutput> {
      const announced = deps.events.publish(input.stream, { type: 'turn', data: { turnId: input.turnId, workflowId: input.workflowId } });
      const opened = await openTurnContext(deps, input);
      await announced;
      return opened;
    },
  };
}
