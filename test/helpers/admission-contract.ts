// The checks every admission store must pass: the in-process one (test/unit/admission.test.ts) and the
// Redis one (test/integration/admission-redis.test.ts). The clock is injected: no check waits for a limit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAdmission, releasingBus } from '../../activities/admission/admission.ts';
import type { AdmissionStore } from '../../activities/admission/limits.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { turnStreamKey } from '../../workflows/shared/contract.ts';
import type { TenantSettings } from '../../workflows/shared/tenant-settings.ts';

type Limits = TenantSettings['limits'];
export const NONE: Limits = { turnsPerMinute: null, concurrentTurns: null, dailyTokens: null, dailyCostUsd: null, perKey: { turnsPerMinute: null, concurrentTurns: null } };
export const limits = (l: Partial<Omit<Limits, 'perKey'>> & { perKey?: Partial<Limits['perKey']> } = {}): Limits => ({ ...NONE, ...l, perKey: { ...NONE.perKey, ...l.perKey } });
const DAY0 = Date.UTC(2026, 11, 5, 12, 0, 0);

/** The checks every store must pass (the Redis store runs them too: test/integration/admission-redis.test.ts). */
export function admissionContract(name: string, makeStore: () => Promise<{ store: AdmissionStore; close?: () => Promise<void> }>) {
  describe(`admission (${name})`, () => {
    let store: AdmissionStore;
    let close: (() => Promise<void>) | undefined;
    let clock = DAY0;
    let n = 0;
    const tenant = () => `t${Date.now().toString(36)}${n++}`;
    before(async () => {
      ({ store, close } = await makeStore());
    });
    after(async () => close?.());
    const admission = (o: { maxInFlight?: number; maxRunning?: number } = {}) => createAdmission({ store, now: () => clock, ...o });
    const turn = (tenantId: string, keyId: string, l: Limits, i: number) => ({ workflowId: `turn-${tenantId}-${keyId}-${i}-${n++}`, tenantId, keyId, limits: l, turnMs: 25_000 });

    // First: the store holds no other check's turns yet (the bound counts every turn in it).
    it('bounds the turns running in the whole deployment, over every process that shares the store', async () => {
      clock = DAY0;
      const t = tenant();
      const [one, two] = [admission({ maxRunning: 2 }), admission({ maxRunning: 2 })];
      const first = turn(t, 'k', NONE, 0);
      assert.equal((await one.admit(first)).ok, true);
      assert.equal((await two.admit(turn(t, 'k', NONE, 1))).ok, true);
      const refused = await one.admit(turn(t, 'k', NONE, 2));
      assert.equal(!refused.ok && refused.refusal.status, 503);
      assert.equal(!refused.ok && refused.refusal.details.limit, 'deployment.running');
      assert.equal(!refused.ok && refused.refusal.details.scope, 'deployment');
      await one.release(first.workflowId);
      assert.equal((await two.admit(turn(t, 'k', NONE, 3))).ok, true, 'a freed slot is anyone’s');
    });

    it('limits turns per minute per key and per tenant: one key refused while another passes, then both', async () => {
      clock = DAY0;
      const t = tenant();
      const a = admission();
      const l = limits({ turnsPerMinute: 5, perKey: { turnsPerMinute: 3 } });
      for (let i = 0; i < 3; i++) assert.equal((await a.admit(turn(t, 'keyA', l, i))).ok, true);
      const keyRefused = await a.admit(turn(t, 'keyA', l, 3));
      assert.equal(keyRefused.ok, false);
      assert.equal(!keyRefused.ok && keyRefused.refusal.details.limit, 'key.turnsPerMinute');
      assert.equal(!keyRefused.ok && keyRefused.refusal.status, 429);
      // A third of a minute, rounded up to whole seconds: the next of 3 per minute.
      assert.equal(!keyRefused.ok && keyRefused.refusal.retryAfterSeconds, 20);
      for (let i = 0; i < 2; i++) assert.equal((await a.admit(turn(t, 'keyB', l, i))).ok, true, 'the other key still passes');
      const tenantRefused = await a.admit(turn(t, 'keyB', l, 2));
      assert.equal(!tenantRefused.ok && tenantRefused.refusal.details.limit, 'tenant.turnsPerMinute');
      assert.match(!tenantRefused.ok ? tenantRefused.refusal.message : '', /over its limit of 5 turns per minute/);
      // The bucket refills evenly: 12 s later one more of the tenant's 5 per minute.
      clock += 12_000;
      assert.equal((await a.admit(turn(t, 'keyB', l, 3))).ok, true);
      const other = tenant();
      assert.equal((await a.admit(turn(other, 'keyC', l, 0))).ok, true, 'another tenant is not counted');
    });

    it('limits concurrent turns; the terminal event frees the slot, once', async () => {
      clock = DAY0;
      const t = tenant();
      const a = admission();
      const bus = releasingBus(createMemoryTurnEventBus(60), store, undefined, () => clock);
      const l = limits({ concurrentTurns: 2 });
      const first = turn(t, 'k', l, 0);
      assert.equal((await a.admit(first)).ok, true);
      assert.equal((await a.admit(turn(t, 'k', l, 1))).ok, true);
      const refused = await a.admit(turn(t, 'k', l, 2));
      assert.equal(!refused.ok && refused.refusal.details.limit, 'tenant.concurrentTurns');
      assert.equal(!refused.ok && refused.refusal.retryAfterSeconds, 1);
      assert.equal((await a.usage(t, l)).running, 2);
      await bus.publishTerminal(turnStreamKey(first.workflowId), { type: 'error', data: { code: 'cancelled', message: 'x' } });
      // A second terminal event is refused by the bus and frees nothing more.
      await bus.publishTerminal(turnStreamKey(first.workflowId), { type: 'error', data: { code: 'cancelled', message: 'x' } });
      assert.equal((await a.usage(t, l)).running, 1);
      assert.equal((await a.admit(turn(t, 'k', l, 3))).ok, true);
      const perKey = limits({ perKey: { concurrentTurns: 1 } });
      const u = tenant();
      assert.equal((await a.admit(turn(u, 'k1', perKey, 0))).ok, true);
      const keyFull = await a.admit(turn(u, 'k1', perKey, 1));
      assert.equal(!keyFull.ok && keyFull.refusal.details.limit, 'key.concurrentTurns');
      assert.equal((await a.admit(turn(u, 'k2', perKey, 0))).ok, true, 'per key: another key of the tenant passes');
    });

    it('frees a slot whose turn never ended once its deadline has long passed', async () => {
      clock = DAY0;
      const t = tenant();
      const a = admission();
      const l = limits({ concurrentTurns: 1 });
      assert.equal((await a.admit(turn(t, 'k', l, 0))).ok, true);
      assert.equal((await a.admit(turn(t, 'k', l, 1))).ok, false);
      clock += 25_000 + 60_001;
      assert.equal((await a.admit(turn(t, 'k', l, 2))).ok, true);
    });

    it('stops a tenant at its daily token budget, counted from its turns’ done events, until the next UTC day', async () => {
      clock = DAY0;
      const t = tenant();
      const a = admission();
      const bus = releasingBus(createMemoryTurnEventBus(60), store, undefined, () => clock);
      const l = limits({ dailyTokens: 100 });
      const first = turn(t, 'k', l, 0);
      assert.equal((await a.admit(first)).ok, true);
      await bus.publishTerminal(turnStreamKey(first.workflowId), { type: 'done', data: { usage: { inputTokens: 80, outputTokens: 40 }, costUsd: 0.5 } as never });
      assert.deepEqual((await a.usage(t, l)).today, { tokens: 120, costUsd: 0.5 });
      const refused = await a.admit(turn(t, 'k', l, 1));
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.refusal.code, 'budget_exhausted');
      assert.equal(!refused.ok && refused.refusal.details.limit, 'tenant.dailyTokens');
      assert.equal(!refused.ok && refused.refusal.retryAfterSeconds, 12 * 3600, 'until midnight UTC');
      assert.equal((await a.admit(turn(t, 'k', limits({ dailyCostUsd: 0.5 }), 2))).ok, false, 'the cost budget counts too');
      clock = DAY0 + 12 * 3600_000 + 1000; // the next UTC day
      assert.equal((await a.admit(turn(t, 'k', l, 3))).ok, true, 'the budget starts again');
      assert.equal((await a.usage(t, l)).today.tokens, 0);
    });

    it('bounds the turns one process has running: the next is refused at once with 503', async () => {
      clock = DAY0;
      const t = tenant();
      const a = admission({ maxInFlight: 2 });
      for (let i = 0; i < 2; i++) assert.equal((await a.admit(turn(t, 'k', NONE, i))).ok, true);
      const refused = await a.admit(turn(t, 'k', NONE, 2));
      assert.equal(!refused.ok && refused.refusal.status, 503);
      assert.equal(!refused.ok && refused.refusal.code, 'overloaded');
      assert.equal(!refused.ok && refused.refusal.details.limit, 'process.inFlight');
      assert.equal((await admission({ maxInFlight: 2 }).admit(turn(t, 'k', NONE, 3))).ok, true, 'another process has its own bound');
      assert.deepEqual((await a.usage(t, NONE)).refusedSinceStart, { 'process.inFlight': 1 });
    });
  });
}

