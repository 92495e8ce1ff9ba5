// Admission control: per-minute, concurrency and daily-budget limits per tenant and per key, the process's
// in-flight bound, slots freed by the turn's terminal event (or by expiry), and the 429/503 the API answers.
// The clock is injected: no test waits for a limit to pass.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAdmission } from '../../activities/admission/admission.ts';
import { gcra, msUntilNextUtcDay } from '../../activities/admission/limits.ts';
import { createMemoryAdmissionStore } from '../../activities/admission/memory-store.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { createApp, type AppDeps } from '../../api/app.ts';
import { createTenantKeyStore } from '../../api/auth.ts';
import { listen } from '../../api/server.ts';
import { hashApiKey } from '../../infra/api-keys.ts';
import type { Queryable } from '../../infra/db.ts';
import { createMemoryKvCache } from '../../infra/kv-cache.ts';
import { createLogger } from '../../infra/logger.ts';
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
});

describe('POST /v1/turns refusals', () => {
  const keys = new Map([
    [hashApiKey('key-one'), { tenant_id: 'shop', dev: false }],
    [hashApiKey('key-two'), { tenant_id: 'shop', dev: false }],
  ]);
  const settings = { limits: { perKey: { turnsPerMinute: 2 } } };
  const db = {
    query: async <R,>(sql: string, params?: unknown[]) => {
      if (sql.includes('FROM tenants')) return { rows: [{ settings, cache_generation: 0 }] as R[], rowCount: 1 };
      const row = keys.get(String(params?.[0]));
      return { rows: (row ? [row] : []) as R[], rowCount: row ? 1 : 0 };
    },
  } satisfies Queryable;
  let started = 0;
  const temporal = {
    workflow: new Proxy({} as AppDeps['temporal']['workflow'], { get: (_t, p) => (p === 'start' ? async () => (started++, {}) : async () => { throw new Error('not expected'); }) }),
    connection: { workflowService: { getSystemInfo: async () => ({}) } as unknown as AppDeps['temporal']['connection']['workflowService'] },
  } satisfies AppDeps['temporal'];
  let api: Awaited<ReturnType<typeof listen>>;
  let base: string;
  before(async () => {
    const app = createApp({
      temporal,
      events: createMemoryTurnEventBus(60),
      appDb: db,
      kv: createMemoryKvCache(),
      keys: createTenantKeyStore(db, { production: true }),
      log: createLogger('silent'),
      admission: createAdmission({ store: createMemoryAdmissionStore(), maxInFlight: 3 }),
    });
    api = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${api.port}`;
  });
  after(() => api.close());
  const post = (key: string) =>
    fetch(`${base}/v1/turns`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ sessionId: 's1', message: 'What is your return policy?' }) });

  it('answers 429 with Retry-After and says which limit; another key of the tenant still passes; then 503 past the process bound', async () => {
    assert.equal((await post('key-one')).status, 202);
    assert.equal((await post('key-one')).status, 202);
    const refused = await post('key-one');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '30');
    assert.match(refused.headers.get('server-timing') ?? '', /^admission;dur=\d+(\.\d)?$/, 'how long the server took to refuse');
    const body = (await refused.json()) as { error: { code: string; message: string; details: { limit: string; scope: string; value: number; retryAfterSeconds: number } } };
    assert.equal(body.error.code, 'rate_limited');
    assert.deepEqual(body.error.details, { limit: 'key.turnsPerMinute', scope: 'key', value: 2, retryAfterSeconds: 30 });
    assert.match(body.error.message, /2 turns per minute/);
    assert.equal(started, 2, 'a refused turn never reaches Temporal');
    assert.equal((await post('key-two')).status, 202, 'the other key has its own limit');
    // Three turns are running in this process (202: they go on in the workers): the bound is reached.
    const overloaded = await post('key-two');
    assert.equal(overloaded.status, 503);
    assert.equal(overloaded.headers.get('retry-after'), '1');
    assert.equal(((await overloaded.json()) as { error: { code: string } }).error.code, 'overloaded');
    assert.equal(started, 3);
  });

  it('gives every tenant the default limits', () => {
    assert.deepEqual(DEFAULT_TENANT_SETTINGS.limits, { turnsPerMinute: 600, concurrentTurns: 100, dailyTokens: 20_000_000, dailyCostUsd: null, perKey: { turnsPerMinute: 300, concurrentTurns: 50 } });
  });
});
