import type { ActivityDeps } from '../deps.ts';
import { insertTurn, type PersistTurnInput } from './store.ts';

/** Session activities. */
export function createSessionActivities(deps: Pick<ActivityDeps, 'appDb'>) {
  return {
    /** Saves the finished turn (after its answer was delivered); a retry of the same turn is a no-op. */
    async persistTurn(input: PersistTurnInput): Promise<void> {
      await insertTurn(deps.appDb, input);
    },
  };
}
