// The faults of `npm run chaos` (test/chaos/), on the split deployment as separate processes: with slow
// turns streaming, the API, the app store, the Temporal server, one of two workers and Redis are each killed
// and started again about 3 s later. Every turn must end exactly once with its whole answer (no repeated or
// erased text) and be stored, no client may see a stream error, and no other process may exit. The pause
// each fault costs the user is printed, not asserted (shared machines are noisy; the chaos table has it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSplitDeployment, type SplitDeployment } from '../chaos/deployment.ts';
import { FAULTS, runFault, slowAnswers, type FaultName } from '../chaos/faults.ts';

describe('faults a user never notices (split deployment)', { timeout: 15 * 60_000 }, () => {
  let dep: SplitDeployment;
  before(async () => {
    dep = await startSplitDeployment();
    await slowAnswers(dep);
  });
  after(() => dep?.close());

  let endedTurn: { turnId: string; eventsUrl: string } | undefined;
  for (const fault of Object.keys(FAULTS) as FaultName[]) {
    it(`${FAULTS[fault].label}: every turn ends once, whole and stored`, async () => {
      const row = await runFault(dep, fault, { turns: 3, ...(endedTurn ? { endedTurn } : {}) });
      endedTurn = row.turnRefs[0];
      console.log(`# ${row.label}: longest pause ${row.maxPauseMs} ms${row.pauseTargetMs !== null ? ` (target ≤ ${row.pauseTargetMs} ms)` : ''}`);
      assert.equal(row.lost, 0, `turns lost: ${row.problems.join('; ')}`);
      assert.equal(row.endedOnce, row.turns, row.problems.join('; '));
      assert.equal(row.whole, row.turns, row.problems.join('; '));
      assert.equal(row.stored, row.turns, row.problems.join('; '));
      assert.equal(row.streamErrors, 0, 'no client saw a stream error');
      assert.deepEqual(row.exits, [], 'no process exited on a dependency outage');
      if (fault === 'redis') {
        // A client reconnecting to an ended turn gets its done from the stored turn; a new turn is a 503 to retry.
        assert.equal(row.redisOutage?.endedTurnDone, true, 'the ended turn’s done during the Redis outage');
        assert.equal(row.redisOutage?.newTurn.status, 503);
        assert.ok(row.redisOutage?.newTurn.retryAfter, 'with Retry-After');
      }
      // The API reports the outage of what it depends on, in /healthz and in turnflow_dependency_up.
      const check = ({ temporal: 'temporal', appStore: 'appStore', redis: 'events' } as Record<string, string>)[fault];
      if (check) {
        assert.match(row.health?.checks[check] ?? '', /^down/, `/healthz during the outage: ${JSON.stringify(row.health)}`);
        assert.equal(row.health?.up[check], 0, `turnflow_dependency_up{dependency="${check}"} during the outage`);
      }
    });
  }
});
