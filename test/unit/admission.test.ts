// Admission control: per-minute, concurrency and daily-budget limits per tenant and per key, the process's
// in-flight bound and the deployment's, slots freed by the turn's terminal event (or by expiry), and the
// 429/503 the API answers (through the real Express app, Temporal stubbed). The clock is injected: no test
// waits for a limit to pass.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { createAdmission, releasingBus, type Admission } from '../../activities/admission/admission.ts';
import { deploymentCapacity, gcra, msUntilNextUtcDay, refusalOf, usageOf } from '../../activities/admission/limits.ts';
import { createMemoryAdmissionStore } from '../../activities/admission/memory-store.ts';
import { tenantSettingsPatch, type TenantSettingsPatch } from '../../activities/tenant/settings.ts';
import { updateTenantSettings } from '../../activities/tenant/store.ts';
import { createMemoryTurnEventBus, type TurnEventBus } from '../../activities/turn-events/bus.ts';
import { createApp, type AppDeps } from '../../api/app.ts';
import { createTenantKeyStore, keyIdOf } from '../../api/auth.ts';
import { createChartUrlSigner } from '../../api/chart-urls.ts';
import { listen } from '../../api/server.ts';
import { hashApiKey } from '../../infra/api-keys.ts';
import type { Queryable } from '../../infra/db.ts';
import { createMemoryKvCache } from '../../infra/kv-cache.ts';
import { createLogger } from '../../infra/logger.ts';
import { createMetrics } from '../../infra/metrics.ts';
import { turnStreamKey, type TurnResult } from '../../workflows/shared/contract.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../workflows/shared/tenant-settings.ts';
import { admissionContract } from '../helpers/admission-contract.ts';

admissionContract('in-process', async () => ({ store: createMemoryAdmissionStore() }));

describe('admission arithmetic', () => {
  it('GCRA allows a minute’s burst, then one per interval', () => {
    let tat = 0;
    for (let i = 0; i < 6; i++) {
      const r = gcra(tat, 1000, 6);
      assert.equal(r.allowed, true);
      if (r.allowed) tat = r.tat;
    }
    const refused = gcra(tat, 1000, 6);
    assert.deepEqual(refused, { allowed: false, waitMs: 10_000 });
  });

  it('counts the seconds to the next UTC midnight', () => {
    assert.equal(msUntilNextUtcDay(Date.UTC(2026, 11, 31, 23, 59, 59)), 1000);
  });

  it('says Retry-After in whole seconds, at least one, rounded up', () => {
    const now = Date.UTC(2026, 11, 5, 23, 59, 59, 500);
    const after = (retryAfterMs: number | null) => refusalOf({ ok: false, limit: 'tenant.concurrentTurns', value: 1, retryAfterMs }, { tenantId: 'acme', keyId: 'k' }, now).retryAfterSeconds;
    assert.deepEqual([after(0), after(1), after(1000), after(1001), after(null)], [1, 1, 1, 2, 1]);
  });

  it('reads a refusal as the client gets it: status, code, message and details', () => {
    const r = refusalOf({ ok: false, limit: 'tenant.turnsPerMinute', value: 600, retryAfterMs: 2500 }, { tenantId: 'acme', keyId: '0123456789ab' }, 0);
    assert.deepEqual(r, {
      status: 429,
      code: 'rate_limited',
      message: 'Tenant acme is over its limit of 600 turns per minute; retry in 3 s',
      retryAfterSeconds: 3,
      details: { limit: 'tenant.turnsPerMinute', scope: 'tenant', value: 600, retryAfterSeconds: 3 },
    });
    const budget = refusalOf({ ok: false, limit: 'tenant.dailyCostUsd', value: 25, retryAfterMs: null }, { tenantId: 'acme', keyId: 'k' }, Date.UTC(2026, 11, 5, 18));
    assert.equal(budget.code, 'budget_exhausted');
    assert.equal(budget.message, 'Tenant acme has used its $25 for today (UTC); the budget starts again at midnight UTC, in 21600 s');
    assert.equal(refusalOf({ ok: false, limit: 'process.inFlight', value: 16, retryAfterMs: 1000 }, { tenantId: 'acme', keyId: 'k' }, 0).status, 503);
  });

  it('figures the deployment’s bound from its live workers, capped by MAX_RUNNING_TURNS', () => {
    assert.equal(deploymentCapacity([], null), null, 'no worker says: no bound');
    assert.equal(deploymentCapacity([], 50), 50);
    assert.equal(deploymentCapacity([64, 32], null), 96);
    assert.equal(deploymentCapacity([64, 32], 80), 80);
    assert.equal(deploymentCapacity([64, 0], null), null, 'a worker without a bound: none from the workers');
  });

  it('counts a done event’s input and output tokens and its cost, and nothing for an error', () => {
    assert.deepEqual(usageOf({ type: 'done', data: { usage: { inputTokens: 900, outputTokens: 100, cacheReadTokens: 5000 }, costUsd: 0.0042 } }), { tokens: 1000, costUsd: 0.0042 });
    assert.deepEqual(usageOf({ type: 'done', data: { answer: 'cached' } }), { tokens: 0, costUsd: 0 });
    assert.equal(usageOf({ type: 'error', data: { code: 'content_policy', message: 'x' } }), null);
  });
});

/** A tenant's keys in the fake app store: `key-<tenant>-<n>`. */
const KEY_TENANTS = ['shop', 'mall', 'inn'] as const;
const keyOf = (tenant: (typeof KEY_TENANTS)[number], n: number) => `key-${tenant}-${n}`;

describe('POST /v1/turns admission', () => {
  const DAY0 = Date.UTC(2026, 11, 5, 12, 0, 0);
  // What each tenant has set (the rest are the defaults).
  const settings: Record<string, TenantSettingsPatch> = {
    shop: { limits: { turnsPerMinute: 3, perKey: { turnsPerMinute: 2 } } },
    mall: {},
    inn: { limits: { concurrentTurns: 1 } },
  };
  const keys = new Map(KEY_TENANTS.flatMap((t) => [1, 2].map((n) => [hashApiKey(keyOf(t, n)), { tenant_id: t, dev: false }] as const)));
  const db = {
    query: async <R,>(sql: string, params?: unknown[]) => {
      const found = (rows: unknown[]) => ({ rows: rows as R[], rowCount: rows.length });
      if (sql.includes('FROM tenants')) return found(settings[String(params?.[0])] ? [{ settings: settings[String(params?.[0])], cache_generation: 0 }] : []);
      if (sql.includes('FROM api_keys')) return found(keys.has(String(params?.[0])) ? [keys.get(String(params?.[0]))] : []);
      return found([]);
    },
  } satisfies Queryable;

  /** The stub Temporal client: starts are recorded (a second start of an id is refused, as the server does). */
  const starts = new Map<string, { memo?: Record<string, unknown> }>();
  let failStart: Error | undefined;
  const workflow = {
    async start(_type: string, o: { workflowId: string; memo?: Record<string, unknown> }) {
      if (failStart) throw failStart;
      if (starts.has(o.workflowId)) throw new WorkflowExecutionAlreadyStartedError('Workflow execution already started', o.workflowId, 'chatTurn');
      starts.set(o.workflowId, { memo: o.memo });
      return {};
    },
    getHandle: (workflowId: string) => ({ describe: async () => ({ memo: starts.get(workflowId)?.memo, status: { name: 'RUNNING' } }) }),
  };
  // The routes call only start and getHandle().describe(): a stub of those two, not a Temporal client.
  const temporal = {
    workflow: workflow as unknown as AppDeps['temporal']['workflow'],
    connection: { workflowService: { getSystemInfo: async () => ({}) } as unknown as AppDeps['temporal']['connection']['workflowService'] },
  } satisfies AppDeps['temporal'];

  let clock = DAY0;
  const store = createMemoryAdmissionStore();
  // The bus every turn ends through, freeing its admission as in the wiring (workers/messaging.ts).
  const events: TurnEventBus = releasingBus(createMemoryTurnEventBus(60), store, undefined, () => clock);
  const servers: { close(): Promise<void> }[] = [];
  const api = async (admission: Admission) => {
    const app = createApp({ temporal, events, appDb: db, kv: createMemoryKvCache(), keys: createTenantKeyStore(db, { production: true }), chartUrls: createChartUrlSigner({ secret: 'unit-test-chart-url-secret-0123456789', ttlSeconds: 3600 }), log: createLogger('silent'), admission });
    const server = await listen(app, 0, '127.0.0.1');
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;
    return (key: string, o: { message?: string; idempotencyKey?: string } = {}) =>
      fetch(`${base}/v1/turns`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json', ...(o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {}) },
        body: JSON.stringify({ sessionId: 's1', message: o.message ?? 'What is your return policy?' }),
      });
  };
  let admission: Admission;
  let post: Awaited<ReturnType<typeof api>>;
  before(async () => {
    admission = createAdmission({ store, maxInFlight: 4, now: () => clock });
    post = await api(admission);
  });
  after(async () => {
    for (const s of servers) await s.close();
  });
  type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };
  const end = (workflowId: string) => events.publishTerminal(turnStreamKey(workflowId), { type: 'done', data: { usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0 } as Partial<TurnResult> as TurnResult });
  const started = () => [...starts.keys()];
  const endAll = async () => {
    for (const id of started()) await end(id);
  };

  it('answers 429 with Retry-After and says which limit: a key’s limit refuses that key while the other passes, the tenant’s refuses both', async () => {
    clock = DAY0;
    assert.equal((await post(keyOf('shop', 1))).status, 202);
    assert.equal((await post(keyOf('shop', 1))).status, 202);
    const keyRefused = await post(keyOf('shop', 1));
    assert.equal(keyRefused.status, 429);
    assert.equal(keyRefused.headers.get('retry-after'), '30');
    assert.match(keyRefused.headers.get('server-timing') ?? '', /^admission;dur=\d+(\.\d)?$/, 'how long the server took to refuse');
    const keyId = keyIdOf(hashApiKey(keyOf('shop', 1)));
    const text = await keyRefused.text();
    assert.ok(!text.includes(keyOf('shop', 1)), 'the key itself is never in a refusal');
    const body = JSON.parse(text) as ErrorBody;
    assert.equal(body.error.code, 'rate_limited');
    assert.deepEqual(body.error.details, { limit: 'key.turnsPerMinute', scope: 'key', value: 2, retryAfterSeconds: 30, keyId });
    assert.equal(body.error.message, `API key ${keyId}… of tenant shop is over its limit of 2 turns per minute; retry in 30 s`);
    assert.equal(started().length, 2, 'a refused turn never reaches Temporal');
    assert.equal((await post(keyOf('shop', 2))).status, 202, 'the other key has its own limit');
    const tenantRefused = await post(keyOf('shop', 2));
    assert.equal(tenantRefused.status, 429);
    assert.equal(tenantRefused.headers.get('retry-after'), '20');
    assert.deepEqual(((await tenantRefused.json()) as ErrorBody).error, {
      code: 'rate_limited',
      message: 'Tenant shop is over its limit of 3 turns per minute; retry in 20 s',
      details: { limit: 'tenant.turnsPerMinute', scope: 'tenant', value: 3, retryAfterSeconds: 20 },
    });
    assert.equal(started().length, 3);
    await endAll();
  });

  it('refuses past the process’s in-flight bound at once with 503 and Retry-After: 1; a turn’s terminal event frees its slot', async () => {
    clock = DAY0 + 3_600_000;
    starts.clear();
    for (let i = 0; i < 4; i++) assert.equal((await post(keyOf('mall', 1))).status, 202);
    const overloaded = await post(keyOf('mall', 2));
    assert.equal(overloaded.status, 503);
    assert.equal(overloaded.headers.get('retry-after'), '1');
    const body = (await overloaded.json()) as ErrorBody;
    assert.equal(body.error.code, 'overloaded');
    assert.deepEqual(body.error.details, { limit: 'process.inFlight', scope: 'process', value: 4, retryAfterSeconds: 1 });
    assert.equal(started().length, 4, 'no Temporal call for a refused turn');
    await end(started()[0]!);
    assert.equal((await post(keyOf('mall', 2))).status, 202, 'the ended turn’s slot is free');
    assert.equal((await admission.usage('mall', DEFAULT_TENANT_SETTINGS.limits)).today.tokens, 15, 'its done event’s tokens count against the budget');
    await endAll();
  });

  it('lets an Idempotency-Key replay of a running turn through on its own slot, and never frees that slot early', async () => {
    clock = DAY0 + 7_200_000;
    starts.clear();
    const limits = { ...DEFAULT_TENANT_SETTINGS.limits, concurrentTurns: 1 };
    assert.equal((await post(keyOf('inn', 1), { idempotencyKey: 'order-17' })).status, 202);
    assert.equal((await post(keyOf('inn', 1), { idempotencyKey: 'order-17' })).status, 202, 'the retried POST is not refused by its own turn');
    assert.equal((await post(keyOf('inn', 1), { idempotencyKey: 'order-17', message: 'Another question' })).status, 409);
    assert.equal((await admission.usage('inn', limits)).running, 1);
    const other = await post(keyOf('inn', 2));
    assert.equal(other.status, 429, 'the running turn still holds the one slot');
    assert.equal(((await other.json()) as ErrorBody).error.details.limit, 'tenant.concurrentTurns');
    await endAll();
    assert.equal((await admission.usage('inn', limits)).running, 0);
  });

  it('gives the slot back when the turn’s workflow could not be started', async () => {
    clock = DAY0 + 10_800_000;
    starts.clear();
    const limits = { ...DEFAULT_TENANT_SETTINGS.limits, concurrentTurns: 1 };
    failStart = new Error('the start failed');
    try {
      assert.equal((await post(keyOf('inn', 1))).status, 500);
    } finally {
      failStart = undefined;
    }
    assert.equal((await admission.usage('inn', limits)).running, 0);
    assert.equal((await post(keyOf('inn', 1))).status, 202);
    await endAll();
  });
});

describe('admission in /metrics', () => {
  it('shows turns in flight and running, the deployment’s capacity and today’s budgets, with no key id in a label', async () => {
    const clock = Date.UTC(2026, 11, 5, 12);
    const store = createMemoryAdmissionStore();
    const admission = createAdmission({ store, now: () => clock });
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeAdmission(admission);
    assert.doesNotMatch(await metrics.render(), /turnflow_turn_capacity\{/, 'no bound: no capacity sample');
    await store.registerWorker('w1', 64, clock, 10_000);
    const limits = DEFAULT_TENANT_SETTINGS.limits;
    const r = await admission.admit({ workflowId: 'turn-shop-1', tenantId: 'shop', keyId: '0123456789ab', limits, turnMs: 25_000 });
    assert.ok(r.ok);
    await admission.admit({ workflowId: 'turn-shop-2', tenantId: 'shop', keyId: '0123456789ab', limits, turnMs: 25_000 });
    await releasingBus(createMemoryTurnEventBus(60), store, undefined, () => clock).publishTerminal(turnStreamKey('turn-shop-1'), {
      type: 'done',
      data: { usage: { inputTokens: 100, outputTokens: 20 }, costUsd: 0.25 } as Partial<TurnResult> as TurnResult,
    });
    metrics.recordRefusal('shop', 'key.turnsPerMinute');
    const text = await metrics.render();
    assert.match(text, /^turnflow_turns_in_flight 1$/m);
    assert.match(text, /^turnflow_turns_running 1$/m);
    assert.match(text, /^turnflow_turn_capacity\{bound="deployment"\} 64$/m);
    assert.match(text, /^turnflow_budget_used\{tenant="shop",kind="tokens"\} 120$/m);
    assert.match(text, /^turnflow_budget_used\{tenant="shop",kind="cost_usd"\} 0.25$/m);
    assert.match(text, /^turnflow_admission_refused_total\{tenant="shop",limit="key.turnsPerMinute"\} 1$/m);
    assert.ok(!text.includes('0123456789ab'), 'no key id in any label');
  });
});

describe('tenant limits settings', () => {
  it('gives every tenant the product’s default limits', () => {
    assert.deepEqual(DEFAULT_TENANT_SETTINGS.limits, { turnsPerMinute: 1200, concurrentTurns: 200, dailyTokens: 20_000_000, dailyCostUsd: null, perKey: { turnsPerMinute: 600, concurrentTurns: 100 } });
  });

  it('keeps the limits set before when a later change sets another one', async () => {
    let stored: unknown = {};
    const db = {
      query: async <R,>(sql: string, params?: unknown[]) => {
        if (sql.startsWith('UPDATE')) stored = JSON.parse(String(params?.[1]));
        return { rows: [{ settings: stored }] as R[], rowCount: 1 };
      },
    } satisfies Queryable;
    const kv = { delete: async () => {} };
    await updateTenantSettings(db, kv, 'shop', { limits: { turnsPerMinute: 30, perKey: { concurrentTurns: 2 } } });
    const settings = await updateTenantSettings(db, kv, 'shop', { limits: { dailyCostUsd: 5, perKey: { turnsPerMinute: 10 } } });
    assert.deepEqual(settings.limits, { turnsPerMinute: 30, concurrentTurns: 200, dailyTokens: 20_000_000, dailyCostUsd: 5, perKey: { turnsPerMinute: 10, concurrentTurns: 2 } });
    assert.equal((await updateTenantSettings(db, kv, 'shop', { limits: { dailyCostUsd: null } })).limits.dailyCostUsd, null, 'null lifts a limit');
  });

  it('refuses a limit that is not a positive number or null, and names it', () => {
    for (const limits of [{ turnsPerMinute: 0 }, { concurrentTurns: 1.5 }, { dailyCostUsd: -1 }, { perKey: { dailyTokens: 5 } }]) {
      const parsed = tenantSettingsPatch.safeParse({ limits });
      assert.equal(parsed.success, false, JSON.stringify(limits));
      assert.equal(parsed.error?.issues[0]?.path[0], 'limits');
    }
  });
});
