// The checks every admission store must pass: the in-process one (test/unit/admission.test.ts) and the
// Redis one (test/integration/admission-redis.test.ts). Each check gets a store of its own (a deployment of its
// own: the deployment's bound counts every turn in it). The clock is injected: no check waits for a limit.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createAdmission, releasingBus, SLOT_GRACE_MS } from '../../activities/admission/admission.ts';
import type { AdmissionStore } from '../../activities/admission/limits.ts';
import { advertiseWorkerCapacity, WORKER_BOUND_TTL_MS } from '../../activities/admission/worker-capacity.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { turnStreamKey, type TurnResult } from '../../workflows/shared/contract.ts';
import type { TenantSettings } from '../../workflows/shared/tenant-settings.ts';

type Limits = TenantSettings['limits'];
export const NONE: Limits = { turnsPerMinute: null, concurrentTurns: null, dailyTokens: null, dailyCostUsd: null, perKey: { turnsPerMinute: null, concurrentTurns: null } };
export const limits = (l: Partial<Omit<Limits, 'perKey'>> & { perKey?: Partial<Limits['perKey']> } = {}): Limits => ({ ...NONE, ...l, perKey: { ...NONE.perKey, ...l.perKey } });
const DAY0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const TURN_MS = 25_000;

/** A `done` event's data with the usage and cost admission counts (the rest of the result does not matter here). */
const doneWith = (usage: { inputTokens: number; outputTokens: number }, costUsd: number) => ({ usage, costUsd }) as Partial<TurnResult> as TurnResult;

/** The checks every store must pass (the Redis store runs them too: test/integration/admission-redis.test.ts). */
export function admissionContract(name: string, makeStore: () => Promise<{ store: AdmissionStore; close?: () => Promise<void> }>) {
  describe(`admission (${name})`, () => {
    let store: AdmissionStore;
    let close: (() => Promise<void>) | undefined;
    let clock = DAY0;
    let n = 0;
    beforeEach(async () => {
      clock = DAY0;
      ({ store, close } = await makeStore());
    });
    afterEach(async () => close?.());
    const admission = (o: { maxInFlight?: number; maxRunning?: number } = {}) => createAdmission({ store, now: () => clock, ...o });
    const bus = () => releasingBus(createMemoryTurnEventBus(60), store, undefined, () => clock);
    const turn = (tenantId: string, keyId: string, l: Limits = NONE) => ({ workflowId: `turn-${tenantId}-${keyId}-${n++}`, tenantId, keyId, limits: l, turnMs: TURN_MS });
    /** Admits a turn that must pass, and returns its ticket. */
    const admitted = async (a: ReturnType<typeof admission>, t: ReturnType<typeof turn>) => {
      const r = await a.admit(t);
      assert.ok(r.ok, `admitted: ${r.ok ? '' : r.refusal.message}`);
      return r.ticket;
    };
    /** Admits a turn that must be refused, and returns the refusal. */
    const refused = async (a: ReturnType<typeof admission>, t: ReturnType<typeof turn>) => {
      const r = await a.admit(t);
      assert.ok(!r.ok, 'refused');
      return r.refusal;
    };

    it('limits turns per minute per key and per tenant: one key refused while another passes, then both', async () => {
      const a = admission();
      const l = limits({ turnsPerMinute: 5, perKey: { turnsPerMinute: 3 } });
      for (let i = 0; i < 3; i++) await admitted(a, turn('shop', 'keyA', l));
      const keyRefused = await refused(a, turn('shop', 'keyA', l));
      assert.equal(keyRefused.status, 429);
      assert.equal(keyRefused.code, 'rate_limited');
      // A third of a minute, rounded up to whole seconds: the next of 3 per minute.
      assert.deepEqual(keyRefused.details, { limit: 'key.turnsPerMinute', scope: 'key', value: 3, retryAfterSeconds: 20, keyId: 'keyA' });
      for (let i = 0; i < 2; i++) await admitted(a, turn('shop', 'keyB', l));
      const tenantRefused = await refused(a, turn('shop', 'keyB', l));
      assert.equal(tenantRefused.details.limit, 'tenant.turnsPerMinute');
      assert.equal(tenantRefused.message, 'Tenant shop is over its limit of 5 turns per minute; retry in 12 s');
      assert.equal((await refused(a, turn('shop', 'keyC', l))).details.limit, 'tenant.turnsPerMinute', 'the tenant limit refuses every key');
      // The bucket refills evenly: 12 s later one more of the tenant's 5 per minute.
      clock += 12_000;
      await admitted(a, turn('shop', 'keyB', l));
      await admitted(a, turn('other', 'keyA', l));
    });

    it('records nothing for a refused turn: it takes no slot and no room in the per-minute bucket', async () => {
      const a = admission();
      const l = limits({ turnsPerMinute: 2, concurrentTurns: 1 });
      const first = await admitted(a, turn('shop', 'k', l));
      assert.equal((await refused(a, turn('shop', 'k', l))).details.limit, 'tenant.concurrentTurns');
      await first.release();
      const second = await admitted(a, turn('shop', 'k', l));
      await second.release();
      assert.equal((await refused(a, turn('shop', 'k', l))).details.limit, 'tenant.turnsPerMinute', 'two admitted this minute; the refused one took no room');
    });

    it('limits concurrent turns per tenant and per key; the terminal event frees the slot, once', async () => {
      const a = admission();
      const events = bus();
      const l = limits({ concurrentTurns: 2 });
      const first = turn('shop', 'k', l);
      await admitted(a, first);
      await admitted(a, turn('shop', 'k', l));
      const full = await refused(a, turn('shop', 'k', l));
      assert.equal(full.details.limit, 'tenant.concurrentTurns');
      assert.equal(full.retryAfterSeconds, 1);
      assert.equal((await a.usage('shop', l)).running, 2);
      await events.publishTerminal(turnStreamKey(first.workflowId), { type: 'error', data: { code: 'cancelled', message: 'x' } });
      // A second terminal event is refused by the bus and frees nothing more.
      await events.publishTerminal(turnStreamKey(first.workflowId), { type: 'error', data: { code: 'cancelled', message: 'x' } });
      assert.equal((await a.usage('shop', l)).running, 1);
      await admitted(a, turn('shop', 'k', l));
      const perKey = limits({ perKey: { concurrentTurns: 1 } });
      await admitted(a, turn('mall', 'k1', perKey));
      const keyFull = await refused(a, turn('mall', 'k1', perKey));
      assert.deepEqual(keyFull.details, { limit: 'key.concurrentTurns', scope: 'key', value: 1, retryAfterSeconds: 1, keyId: 'k1' });
      await admitted(a, turn('mall', 'k2', perKey));
    });

    it('holds no second slot for a turn that is already running (an Idempotency-Key replay), and its release frees nothing', async () => {
      const a = admission();
      const events = bus();
      const l = limits({ concurrentTurns: 1 });
      const running = turn('shop', 'k', l);
      await admitted(a, running);
      const replay = await admitted(a, running);
      assert.equal(replay.counted, false, 'the replay is let through on the running turn’s slot');
      await replay.release();
      assert.equal((await a.usage('shop', l)).running, 1, 'the running turn keeps its slot');
      await events.publishTerminal(turnStreamKey(running.workflowId), { type: 'done', data: doneWith({ inputTokens: 1, outputTokens: 1 }, 0) });
      assert.equal((await a.usage('shop', l)).running, 0);
    });

    it('frees a slot whose turn never ended once its deadline has long passed', async () => {
      const a = admission();
      const l = limits({ concurrentTurns: 1 });
      await admitted(a, turn('shop', 'k', l));
      await refused(a, turn('shop', 'k', l));
      clock += TURN_MS + SLOT_GRACE_MS - 1;
      await refused(a, turn('shop', 'k', l));
      clock += 2;
      await admitted(a, turn('shop', 'k', l));
    });

    it('stops a tenant at its daily token or cost budget, counted from its turns’ done events, until the next UTC day', async () => {
      const a = admission();
      const events = bus();
      const l = limits({ dailyTokens: 100 });
      const first = turn('shop', 'k', l);
      await admitted(a, first);
      await events.publishTerminal(turnStreamKey(first.workflowId), { type: 'done', data: doneWith({ inputTokens: 80, outputTokens: 40 }, 0.5) });
      assert.deepEqual((await a.usage('shop', l)).today, { tokens: 120, costUsd: 0.5 });
      const spent = await refused(a, turn('shop', 'k', l));
      assert.equal(spent.status, 429);
      assert.equal(spent.code, 'budget_exhausted');
      assert.equal(spent.details.limit, 'tenant.dailyTokens');
      assert.equal(spent.retryAfterSeconds, 12 * 3600, 'until midnight UTC');
      assert.equal((await refused(a, turn('shop', 'k', limits({ dailyCostUsd: 0.5 })))).details.limit, 'tenant.dailyCostUsd');
      await admitted(a, turn('mall', 'k', l));
      clock = DAY0 + 12 * 3600_000 + 1000; // the next UTC day
      await admitted(a, turn('shop', 'k', l));
      assert.deepEqual((await a.usage('shop', l)).today, { tokens: 0, costUsd: 0 });
    });

    it('bounds the turns one process has running: the next is refused at once with 503', async () => {
      const a = admission({ maxInFlight: 2 });
      const first = await admitted(a, turn('shop', 'k'));
      await admitted(a, turn('shop', 'k'));
      const full = await refused(a, turn('shop', 'k'));
      assert.equal(full.status, 503);
      assert.equal(full.code, 'overloaded');
      assert.deepEqual(full.details, { limit: 'process.inFlight', scope: 'process', value: 2, retryAfterSeconds: 1 });
      await admitted(admission({ maxInFlight: 2 }), turn('shop', 'k'));
      assert.deepEqual((await a.usage('shop', NONE)).refusedSinceStart, { 'process.inFlight': 1 });
      await first.release();
      await admitted(a, turn('shop', 'k'));
    });

    it('bounds the deployment by its live workers’ advertised bounds, capped by MAX_RUNNING_TURNS', async () => {
      const [one, two] = [admission(), admission()];
      assert.equal((await one.overview([])).deployment.capacity, null, 'no worker says: no bound');
      const workerA = await advertiseWorkerCapacity(store, { maxTurns: 2, now: () => clock, heartbeatMs: 3_600_000 });
      const first = await admitted(one, turn('shop', 'k'));
      await admitted(two, turn('shop', 'k'));
      const full = await refused(one, turn('shop', 'k'));
      assert.equal(full.status, 503);
      assert.deepEqual(full.details, { limit: 'deployment.running', scope: 'deployment', value: 2, retryAfterSeconds: 1 });
      await first.release();
      await admitted(two, turn('shop', 'k'));
      const workerB = await advertiseWorkerCapacity(store, { maxTurns: 1, now: () => clock, heartbeatMs: 3_600_000 });
      await admitted(one, turn('shop', 'k'));
      assert.deepEqual((await one.overview([])).deployment, { running: 3, capacity: 3, liveWorkers: 2, maxRunningTurns: null });
      assert.equal((await refused(one, turn('shop', 'k'))).details.value, 3);
      await workerB.stop();
      assert.equal((await one.overview([])).deployment.capacity, 2, 'a worker that stops takes its bound back');
      assert.equal((await admission({ maxRunning: 1 }).overview([])).deployment.capacity, 1, 'MAX_RUNNING_TURNS caps the sum');
      const unbounded = await advertiseWorkerCapacity(store, { maxTurns: 0, now: () => clock, heartbeatMs: 3_600_000 });
      await admitted(one, turn('shop', 'k'));
      await unbounded.stop();
      // A worker that dies without a word stops counting once its last heartbeat lapses.
      clock += WORKER_BOUND_TTL_MS;
      assert.deepEqual((await two.overview([])).deployment, { running: 4, capacity: null, liveWorkers: 0, maxRunningTurns: null });
      await workerA.stop();
    });

    it('shows this process, the deployment and every tenant to an operator, and the gauges of what it has seen', async () => {
      const a = admission({ maxInFlight: 10 });
      const events = bus();
      const t = turn('shop', 'k', limits({ dailyTokens: 1000 }));
      await admitted(a, t);
      await admitted(admission(), turn('mall', 'k'));
      const overview = await a.overview([{ tenantId: 'shop', limits: t.limits }]);
      assert.deepEqual(overview.process, { inFlight: 1, maxInFlightTurns: 10 });
      assert.equal(overview.deployment.running, 2);
      assert.deepEqual(overview.byTenant.shop, { limits: t.limits, running: 1, today: { tokens: 0, costUsd: 0 }, refusedSinceStart: {} });
      await events.publishTerminal(turnStreamKey(t.workflowId), { type: 'done', data: doneWith({ inputTokens: 30, outputTokens: 12 }, 0.0021) });
      assert.deepEqual(await a.gauges(), { inFlight: 0, running: 1, capacity: null, budgets: [{ tenant: 'shop', tokens: 42, costUsd: 0.0021 }] });
    });
  });
}
