// Turn statistics and metrics from synthetic turn results: rates, nearest-rank percentiles, per-provider
// figures from `calls`, rows of older workers without them, window parsing; and the route's scoping by key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTurnEventActivities } from '../../activities/turn-events/activities.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { createApp, type AppDeps } from '../../api/app.ts';
import { createTenantKeyStore } from '../../api/auth.ts';
import { createChartUrlSigner } from '../../api/chart-urls.ts';
import { ApiError } from '../../api/errors.ts';
import { listen } from '../../api/server.ts';
import { aggregateTurnStats, percentiles } from '../../api/stats-figures.ts';
import { parseStatsWindow, type StatsResponse } from '../../api/stats.ts';
import { hashApiKey } from '../../infra/api-keys.ts';
import type { Queryable } from '../../infra/db.ts';
import { createMemoryKvCache } from '../../infra/kv-cache.ts';
import { createLogger } from '../../infra/logger.ts';
import { createMetrics, serveMetrics, turnOutcome } from '../../infra/metrics.ts';
import { type ModelCall, type TurnResult, ZERO_USAGE } from '../../workflows/shared/contract.ts';

/** A turn result as a worker writes it; `over` sets what a test is about. */
function turn(over: Partial<TurnResult> = {}): TurnResult {
  return {
    turnId: 't',
    workflowId: 'turn-acme-t',
    answer: 'An answer.',
    cache: 'none',
    intent: 'small_talk',
    complexity: 'trivial',
    slots: {},
    understanding: { confidence: 0.95, language: 'en', reconciled: false, reconcileReasons: [], source: { capture: 'model', detect: 'model' } },
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    usage: { ...ZERO_USAGE },
    costUsd: 0,
    timings: { totalMs: 100, ttftMs: 50, steps: {} },
    fallbacks: [],
    ...over,
  };
}

function call(over: Partial<ModelCall>): ModelCall {
  return {
    step: 'generateAnswer',
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    outcome: 'won',
    startMs: 0,
    ttftMs: 100,
    ms: 400,
    usage: { ...ZERO_USAGE },
    costUsd: 0,
    listCostUsd: 0,
    ...over,
  };
}

const notUnderstood = (): TurnResult['understanding'] => ({ confidence: 0, language: 'und', reconciled: false, reconcileReasons: [], source: { capture: 'none', detect: 'none' } });
const exactHit = () => turn({ cache: 'exact', understanding: notUnderstood(), timings: { totalMs: 20, ttftMs: 20, steps: { openTurn: 3 } } });
const blocked = () => turn({ provider: undefined, error: { code: 'content_policy', message: 'no' }, timings: { totalMs: 40, ttftMs: null, steps: {} } });

describe('percentiles (nearest rank)', () => {
  it('picks the smallest sample with at least p% at or below it', () => {
    assert.deepEqual(percentiles(Array.from({ length: 100 }, (_, i) => 100 - i)), { p50: 50, p95: 95, p99: 99 });
    assert.deepEqual(percentiles([40, 10, 30, 20]), { p50: 20, p95: 40, p99: 40 });
    assert.deepEqual(percentiles([7]), { p50: 7, p95: 7, p99: 7 });
  });

  it('is null without samples', () => {
    assert.deepEqual(percentiles([]), { p50: null, p95: null, p99: null });
  });
});

describe('aggregateTurnStats', () => {
  it('counts outcomes and cache hits, and rates them over all turns', () => {
    const s = aggregateTurnStats([
      exactHit(),
      exactHit(),
      turn({ cache: 'semantic', similarity: 0.95 }),
      turn(),
      blocked(),
      turn({ provider: undefined, error: { code: 'cancelled', message: 'cancelled' } }),
      turn({ provider: undefined, error: { code: 'turn_failed', message: 'failed' } }),
      turn({ provider: undefined, fallbacks: ['generateAnswer:anthropic', 'generateAnswer:openai'] }),
    ]);
    assert.equal(s.turns, 8);
    assert.deepEqual(
      { answered: s.answered, canned: s.canned, guardrailDenials: s.guardrailDenials, cancelled: s.cancelled, failed: s.failed },
      { answered: 4, canned: 1, guardrailDenials: 1, cancelled: 1, failed: 1 },
    );
    assert.deepEqual(s.cache, { exact: 2, semantic: 1, none: 5, exactHitRate: 0.25, semanticHitRate: 0.125 });
  });

  it('rates reconciliation over the turns whose understanding ran', () => {
    const reconciled = turn({ understanding: { confidence: 0.5, language: 'en', reconciled: true, reconcileReasons: ['low-confidence'], source: { capture: 'model', detect: 'model' } } });
    const oldRow = turn();
    delete oldRow.understanding;
    const s = aggregateTurnStats([exactHit(), exactHit(), exactHit(), reconciled, turn(), turn(), turn(), oldRow]);
    assert.equal(s.reconcileRate, 0.25, '1 of the 4 understood turns; hits and rows without understanding do not count');
  });

  it('counts turns with a fallback and each kind once per turn', () => {
    const s = aggregateTurnStats([
      turn({ fallbacks: ['gatherContext:profile', 'captureSlots:rules'] }),
      turn({ fallbacks: ['captureSlots:rules'] }),
      turn(),
      turn(),
    ]);
    assert.deepEqual(s.fallbacks, { turnsWithFallback: 2, rate: 0.5, byKind: { 'captureSlots:rules': 2, 'gatherContext:profile': 1 } });
  });

  it('figures each answer provider from the calls of the answer step only', () => {
    const s = aggregateTurnStats([
      turn({ calls: [call({ step: 'captureSlots', outcome: 'ok', ttftMs: 5, ms: 9 }), call({ ttftMs: 100, ms: 400 }), call({ provider: 'openai', outcome: 'lost', ttftMs: null, ms: 150 })] }),
      turn({ provider: 'openai', calls: [call({ outcome: 'failed', status: 529, ttftMs: null, ms: 30 }), call({ provider: 'openai', ttftMs: 300, ms: 900 })] }),
      turn({ calls: [call({ ttftMs: 200, ms: 600 }), call({ provider: 'openai', outcome: 'timeout', ttftMs: null, ms: 2000 })] }),
      turn({ calls: [call({ outcome: 'stalled', ttftMs: 80, ms: 3000 }), call({ provider: 'openai', outcome: 'continuation', ttftMs: 60, ms: 700 })] }),
      turn({ calls: [call({ outcome: 'ok', ttftMs: 120, ms: 500 })] }),
    ]);
    assert.equal(s.callsRecorded, 5);
    assert.deepEqual(Object.keys(s.providers), ['anthropic', 'openai']);
    const a = s.providers.anthropic!;
    assert.deepEqual(
      { calls: a.calls, wins: a.wins, losses: a.losses, errors: a.errors, timeouts: a.timeouts, stalls: a.stalls, continuations: a.continuations },
      { calls: 5, wins: 3, losses: 0, errors: 1, timeouts: 0, stalls: 1, continuations: 0 },
      'a capture call is not an answer call; an unraced answer call (ok) answered',
    );
    assert.deepEqual(a.firstTokenMs, { p50: 120, p95: 200, p99: 200 }, 'of the calls that answered');
    assert.deepEqual(a.totalMs, { p50: 500, p95: 600, p99: 600 });
    const o = s.providers.openai!;
    assert.deepEqual(
      { calls: o.calls, wins: o.wins, losses: o.losses, timeouts: o.timeouts, continuations: o.continuations },
      { calls: 4, wins: 1, losses: 1, timeouts: 1, continuations: 1 },
    );
    assert.deepEqual(o.firstTokenMs, { p50: 300, p95: 300, p99: 300 });
  });

  it('takes rows of older workers without calls or list costs as they are', () => {
    const old = turn({ usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0.002 });
    delete old.understanding;
    const fresh = turn({
      usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 300, cacheWriteTokens: 100 },
      costUsd: 0,
      listCostUsd: 0.004,
      calls: [call({ usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 300, cacheWriteTokens: 100 }, listCostUsd: 0.004 })],
    });
    const s = aggregateTurnStats([old, fresh]);
    assert.equal(s.callsRecorded, 1);
    assert.equal(s.providers.anthropic?.calls, 1, 'only the row with calls figures in providers');
    assert.deepEqual(s.tokens, { input: 200, output: 100, cacheRead: 300, cacheWrite: 100, cacheReadShare: 0.5 });
    assert.deepEqual(s.cost, { totalUsd: 0.002, perTurnUsd: 0.001, listTotalUsd: 0.006, listPerTurnUsd: 0.003 }, 'an old row lists at what it cost');
  });

  it('takes latency of turns that answered, and step percentiles of durations only', () => {
    const s = aggregateTurnStats([
      turn({ timings: { totalMs: 100, ttftMs: 40, steps: { generateAnswer: 60, runSqlAgent: 30, 'runSqlAgent.attempts': 2 } } }),
      turn({ timings: { totalMs: 300, ttftMs: 90, steps: { generateAnswer: 200 } } }),
      exactHit(),
      blocked(),
      // A canned answer stored before ttftMs became null for it: its end is no first token.
      turn({ answer: "Sorry, I can't answer right now", provider: undefined, timings: { totalMs: 5000, ttftMs: 5000, steps: {} } }),
    ]);
    assert.deepEqual(s.latency.totalMs, { p50: 100, p95: 5000, p99: 5000 });
    assert.deepEqual(s.latency.firstTokenMs, { p50: 40, p95: 90, p99: 90 }, 'first tokens of streamed answers only');
    assert.deepEqual(s.steps, {
      generateAnswer: { count: 2, p50: 60, p95: 200, p99: 200 },
      openTurn: { count: 1, p50: 3, p95: 3, p99: 3 },
      runSqlAgent: { count: 1, p50: 30, p95: 30, p99: 30 },
    });
  });

  it('has null rates and percentiles, not zeros, for no turns', () => {
    const s = aggregateTurnStats([]);
    assert.equal(s.turns, 0);
    assert.equal(s.cache.exactHitRate, null);
    assert.equal(s.reconcileRate, null);
    assert.equal(s.fallbacks.rate, null);
    assert.equal(s.latency.totalMs.p50, null);
    assert.equal(s.tokens.cacheReadShare, null);
    assert.deepEqual(s.cost, { totalUsd: 0, perTurnUsd: null, listTotalUsd: 0, listPerTurnUsd: null });
    assert.deepEqual(s.providers, {});
  });
});

describe('parseStatsWindow', () => {
  it('reads minutes, hours and days, 1 minute to 30 days, default 1 hour', () => {
    assert.deepEqual(parseStatsWindow(undefined), { label: '1h', ms: 3_600_000 });
    assert.equal(parseStatsWindow('1m').ms, 60_000);
    assert.equal(parseStatsWindow('90m').ms, 5_400_000);
    assert.equal(parseStatsWindow('7d').ms, 7 * 86_400_000);
    assert.equal(parseStatsWindow('720h').ms, 30 * 86_400_000);
    assert.equal(parseStatsWindow('30d').ms, 30 * 86_400_000);
  });

  it('refuses anything else with a 400 naming the window', () => {
    for (const bad of ['', '0m', '31d', '721h', '60s', '1w', '1.5h', '-1h', 'h', '1 h', '01h', 'abc', ['1h', '2h'], 5]) {
      assert.throws(
        () => parseStatsWindow(bad),
        (err: unknown) => err instanceof ApiError && err.status === 400 && err.code === 'invalid_window',
        `window ${JSON.stringify(bad)}`,
      );
    }
  });
});

describe('createMetrics', () => {
  it('classifies outcomes as the turns table does', () => {
    assert.equal(turnOutcome(turn()), 'answered');
    assert.equal(turnOutcome(exactHit()), 'answered');
    assert.equal(turnOutcome(turn({ provider: undefined })), 'canned');
    assert.equal(turnOutcome(blocked()), 'blocked');
    assert.equal(turnOutcome(turn({ error: { code: 'cancelled', message: '' } })), 'cancelled');
    assert.equal(turnOutcome(turn({ error: { code: 'turn_failed', message: '' } })), 'failed');
  });

  it('records a turn: counts, durations, calls and tokens by provider', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordTurn('acme', exactHit());
    m.recordTurn('acme', blocked());
    m.recordTurn(
      'acme',
      turn({
        fallbacks: ['gatherContext:profile'],
        understanding: { confidence: 0.5, language: 'en', reconciled: true, reconcileReasons: [], source: { capture: 'model', detect: 'model' } },
        costUsd: 0.01,
        listCostUsd: 0.02,
        timings: { totalMs: 1200, ttftMs: 300, steps: { generateAnswer: 900, 'runSqlAgent.attempts': 2 } },
        calls: [
          call({ usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, cacheWriteTokens: 0 } }),
          call({ provider: 'openai', outcome: 'lost', ttftMs: null, usage: { inputTokens: 90, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } }),
        ],
      }),
    );
    // A row without calls: its tokens go to its answer's provider.
    m.recordTurn('globex', turn({ usage: { inputTokens: 7, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 } }));
    const text = await m.render();
    const has = (line: string) => assert.ok(text.split('\n').includes(line), `missing: ${line}\n${text}`);
    has('turnflow_turns_total{tenant="acme",cache="exact",intent="small_talk",outcome="answered"} 1');
    has('turnflow_turns_total{tenant="acme",cache="none",intent="small_talk",outcome="blocked"} 1');
    has('turnflow_turns_total{tenant="acme",cache="none",intent="small_talk",outcome="answered"} 1');
    has('turnflow_guardrail_denials_total{tenant="acme"} 1');
    has('turnflow_reconciled_turns_total{tenant="acme"} 1');
    has('turnflow_turn_fallbacks_total{tenant="acme",kind="gatherContext:profile"} 1');
    has('turnflow_model_calls_total{provider="anthropic",step="generateAnswer",outcome="won"} 1');
    has('turnflow_model_calls_total{provider="openai",step="generateAnswer",outcome="lost"} 1');
    has('turnflow_model_first_token_seconds_count{provider="anthropic",step="generateAnswer"} 1');
    has('turnflow_tokens_total{tenant="acme",provider="anthropic",kind="input"} 100');
    has('turnflow_tokens_total{tenant="acme",provider="anthropic",kind="cache_read"} 50');
    has('turnflow_tokens_total{tenant="acme",provider="openai",kind="input"} 90');
    has('turnflow_tokens_total{tenant="globex",provider="anthropic",kind="output"} 3');
    has('turnflow_cost_usd_total{tenant="acme"} 0.01');
    has('turnflow_list_cost_usd_total{tenant="acme"} 0.02');
    has('turnflow_turn_duration_seconds_bucket{le="2.5",tenant="acme",cache="none"} 2');
    has('turnflow_turn_duration_seconds_bucket{le="1",tenant="acme",cache="none"} 1');
    has('turnflow_step_duration_seconds_count{step="generateAnswer"} 1');
    assert.ok(!text.includes('step="runSqlAgent.attempts"'), 'an attempt count is not a duration');
  });

  it('is fed by finishTurn once per turn: a retried activity, refused a second terminal event, does not count again', async () => {
    const recorded: string[] = [];
    let terminals = 0;
    const activities = createTurnEventActivities({
      events: { publish: async () => 'id', publishTerminal: async () => (terminals++ === 0 ? '1-0' : null) },
      metrics: { recordTurn: (tenantId, result) => void recorded.push(`${tenantId}:${result.cache}`) },
    });
    const input = { stream: 'turn:{turn-acme-t}:events', result: exactHit(), streamAnswer: true, tenantId: 'acme' };
    assert.deepEqual(await activities.finishTurn(input), { published: true });
    assert.deepEqual(await activities.finishTurn(input), { published: false });
    assert.deepEqual(recorded, ['acme:exact']);
    await activities.finishTurn({ ...input, result: blocked(), tenantId: undefined });
    assert.equal(recorded.length, 1, 'an error terminal event refused too');
  });

  it("serves a worker's /metrics on its own port, behind METRICS_TOKEN when set", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordTurn('acme', turn());
    const served = await serveMetrics(m, { port: 0, host: '127.0.0.1', token: 'scrape-me' });
    try {
      const url = `http://127.0.0.1:${served.port}`;
      assert.equal((await fetch(`${url}/metrics`)).status, 401);
      const res = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-me' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), m.contentType);
      assert.match(await res.text(), /^turnflow_turns_total\{tenant="acme",cache="none",intent="small_talk",outcome="answered"\} 1$/m);
      assert.equal((await fetch(`${url}/other`, { headers: { authorization: 'Bearer scrape-me' } })).status, 404);
    } finally {
      await served.close();
    }
  });
});

// The route with small fakes: a key table, tenants, and turn rows the fake answers by tenant and time.
describe('GET /v1/stats, GET /metrics and the admin key', () => {
  const keys = new Map<string, { tenant_id: string | null; dev: boolean; admin: boolean }>([
    [hashApiKey('acme-key'), { tenant_id: 'acme', dev: false, admin: false }],
    [hashApiKey('globex-key'), { tenant_id: 'globex', dev: false, admin: false }],
    [hashApiKey('admin-key'), { tenant_id: null, dev: false, admin: true }],
    [hashApiKey('dev-admin-key'), { tenant_id: null, dev: true, admin: true }],
  ]);
  const now = Date.now();
  const rows = [
    { tenant_id: 'acme', created_at: now - 1000, result: turn() },
    { tenant_id: 'acme', created_at: now - 2000, result: exactHit() },
    { tenant_id: 'acme', created_at: now - 3000, result: blocked() },
    { tenant_id: 'acme', created_at: now - 2 * 3_600_000, result: turn() },
    { tenant_id: 'globex', created_at: now - 4000, result: turn() },
  ];
  const db = {
    query: async <R,>(sql: string, params: unknown[] = []) => {
      let out: unknown[] = [];
      if (sql.includes('FROM api_keys')) out = [keys.get(String(params[0]))].filter(Boolean);
      else if (sql.includes('FROM tenants')) out = ['acme', 'globex'].includes(String(params[0])) ? [{}] : [];
      else if (sql.includes('FROM turns')) {
        const scoped = sql.includes('tenant_id = $1');
        const [from, to, limit] = (scoped ? params.slice(1) : params) as [Date, Date, number];
        out = rows
          .filter((r) => (!scoped || r.tenant_id === params[0]) && r.created_at > from.getTime() && r.created_at <= to.getTime())
          .sort((a, b) => b.created_at - a.created_at)
          .slice(0, limit);
      }
      return { rows: out as R[], rowCount: out.length };
    },
  } satisfies Queryable;
  const temporal = {
    workflow: new Proxy({} as AppDeps['temporal']['workflow'], { get: () => () => Promise.reject(new Error('Temporal must not be called')) }),
    connection: { workflowService: { getSystemInfo: async () => ({}) } as unknown as AppDeps['temporal']['connection']['workflowService'] },
  } satisfies AppDeps['temporal'];
  const metrics = createMetrics({ defaultMetrics: false });

  let api: Awaited<ReturnType<typeof listen>>;
  let prodApi: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    const deps = { temporal, events: createMemoryTurnEventBus(60), appDb: db, kv: createMemoryKvCache(), log: createLogger('silent'), chartUrls: createChartUrlSigner({ secret: 'unit-test-chart-url-secret-0123456789', ttlSeconds: 3600 }) };
    api = await listen(createApp({ ...deps, keys: createTenantKeyStore(db, { production: false }), metrics, metricsToken: 'scrape-me' }), 0, '127.0.0.1');
    prodApi = await listen(createApp({ ...deps, keys: createTenantKeyStore(db, { production: true }) }), 0, '127.0.0.1');
  });
  after(async () => {
    await api.close();
    await prodApi.close();
  });
  const get = (path: string, key?: string, port = api.port) => fetch(`http://127.0.0.1:${port}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it("gives a tenant key its own tenant's figures of the window", async () => {
    const res = await get('/v1/stats', 'acme-key');
    assert.equal(res.status, 200);
    const body = (await res.json()) as StatsResponse;
    assert.equal(body.tenant, 'acme');
    assert.equal(body.window, '1h');
    assert.equal(body.sampled, false);
    assert.equal(Date.parse(body.to) - Date.parse(body.from), 3_600_000);
    assert.equal(body.turns, 3, 'the turn two hours ago is outside the window; globex is never counted');
    assert.equal(body.guardrailDenials, 1);
    assert.equal(body.cache.exact, 1);
    assert.equal(body.byTenant, undefined);
    assert.equal(((await (await get('/v1/stats?window=3h', 'acme-key')).json()) as StatsResponse).turns, 4);
    assert.equal(((await (await get('/v1/stats?tenant=acme', 'acme-key')).json()) as StatsResponse).turns, 3, 'naming itself is fine');
  });

  it("answers a tenant key's ?tenant= of another tenant with a 404", async () => {
    const res = await get('/v1/stats?tenant=globex', 'acme-key');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'tenant_not_found');
  });

  it('gives an admin key every tenant, byTenant, or one tenant', async () => {
    const all = (await (await get('/v1/stats', 'admin-key')).json()) as StatsResponse;
    assert.equal(all.tenant, null);
    assert.equal(all.turns, 4);
    assert.deepEqual(Object.keys(all.byTenant ?? {}), ['acme', 'globex']);
    assert.equal(all.byTenant?.acme?.turns, 3);
    assert.equal(all.byTenant?.globex?.turns, 1);
    const one = (await (await get('/v1/stats?tenant=globex', 'admin-key')).json()) as StatsResponse;
    assert.equal(one.tenant, 'globex');
    assert.equal(one.turns, 1);
    assert.equal(one.byTenant, undefined);
    assert.equal((await get('/v1/stats?tenant=initech', 'admin-key')).status, 404);
    assert.equal((await get('/v1/stats?tenant=Bad-Id', 'admin-key')).status, 400);
  });

  it('refuses a bad window with a 400 in the JSON error shape', async () => {
    const res = await get('/v1/stats?window=45s', 'acme-key');
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'invalid_window');
    assert.match(body.error.message, /1m to 30d/);
  });

  it('refuses an admin key on tenant routes with a 403, and keys nobody knows with a 401', async () => {
    for (const path of ['/v1/settings', '/v1/knowledge', '/v1/turns/abc']) {
      const res = await get(path, 'admin-key');
      assert.equal(res.status, 403, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'admin_key_not_allowed');
    }
    assert.equal((await get('/v1/stats', 'nope')).status, 401);
    assert.equal((await get('/v1/stats')).status, 401);
  });

  it('refuses the dev admin key in production', async () => {
    assert.equal((await get('/v1/stats', 'dev-admin-key')).status, 200);
    assert.equal((await get('/v1/stats', 'dev-admin-key', prodApi.port)).status, 401);
    assert.equal((await get('/v1/stats', 'admin-key', prodApi.port)).status, 200);
  });

  it('serves /metrics with METRICS_TOKEN, counting requests by route pattern', async () => {
    assert.equal((await get('/metrics')).status, 401);
    assert.equal((await get('/metrics', 'wrong')).status, 401);
    const res = await get('/metrics', 'scrape-me');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /turnflow_http_requests_total\{method="GET",route="\/v1\/stats",status="200"\} \d+/);
    assert.match(text, /turnflow_http_requests_total\{method="GET",route="\/v1\/turns\/:turnId",status="403"\} 1/, 'the pattern, not the id');
    assert.ok(!text.includes('/v1/turns/abc'));
    assert.equal((await get('/metrics', undefined, prodApi.port)).status, 404, 'no metrics given, no /metrics');
  });
});
