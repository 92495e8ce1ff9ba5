// `npm run bench`: the seed write-ups' phase table, reproduced side by side on one workload, against the
// running API (loopback only). Each configuration is a tenant created through the product's own tenant
// administration (admin key) with the settings of that phase; all run at once, interleaved, so machine
// noise hits them alike. The offline model's latency profiles are set through its admin endpoint. Then
// separate figures: exact-hit and semantic-hit latency, racing against the best single provider, and a
// 100-user run with the processes' peak memory.
//   npm start                      # or the split deployment (README), then:
//   npm run bench -- [--quick] [--json FILE] [--chart FILE.svg] [--label NAME] [--url URL] [--admin-key KEY]
//                    [--timeline FILE.svg] [--duration S] [--users N] [--offline-url URL] [--metrics-url URL,...]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from '../../activities/charts/render.ts';
import type { TenantSettingsPatch } from '../../activities/tenant/settings.ts';
import type { ProviderProfile } from '../../infra/dev/offline-model/server.ts';
import type { ModelCall, TurnResult } from '../../workflows/shared/contract.ts';
import { AFTER_CRITICAL_PATH, BEFORE_CRITICAL_PATH, compiledShare, PATH_KINDS, pathRows, pathSample, speculationWaste, timelines, timelineSpec, type PathKind, type PathSample } from './critical-path.ts';
import { runRacing } from './racing.ts';
import { buildWorkload, WORKLOAD_MIX, type TurnKind, type WorkloadTurn } from './workload.ts';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    'admin-key': { type: 'string', default: 'dev-admin-key' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    chart: { type: 'string' },
    timeline: { type: 'string' },
    'critical-path-only': { type: 'boolean', default: false },
    label: { type: 'string', default: 'npm start' },
    duration: { type: 'string' },
    users: { type: 'string' },
    'offline-url': { type: 'string' },
    'metrics-url': { type: 'string' },
  },
});
const QUICK = args.quick!;
const BASE = new URL(args.url!);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(BASE.hostname)) {
  console.error('the benchmark only drives an API on this machine (127.0.0.1 or localhost)');
  process.exit(2);
}
const ADMIN = args['admin-key']!;
const DURATION_S = Number(args.duration ?? (QUICK ? 45 : 120));
const USERS = Number(args.users ?? (QUICK ? 3 : 4));
const CONCURRENT_USERS = 100;
const CONCURRENT_S = QUICK ? 20 : 45;

/** The stated latency profile: lognormal first tokens with a slow tail, a slower second provider, a slower strong tier. */
export const BENCH_PROFILE: Record<'anthropic' | 'openai', Partial<ProviderProfile>> = {
  anthropic: {
    ttftMs: 400, ttftSigma: 0.3, slowRate: 0.05, slowFactor: 3, tokensPerSec: 90, tpsSigma: 0.25, headersMs: 30, jitterMs: 0,
    errorRate: 0, stallRate: 0, retryAfterSec: null, stallAfterTokens: 1,
    models: { 'claude-sonnet-4-6': { ttftFactor: 1.8, tpsFactor: 0.6 } },
  },
  openai: {
    ttftMs: 500, ttftSigma: 0.3, slowRate: 0.05, slowFactor: 3, tokensPerSec: 80, tpsSigma: 0.25, headersMs: 30, jitterMs: 0,
    errorRate: 0, stallRate: 0, retryAfterSec: null, stallAfterTokens: 1,
    models: { 'gpt-4.1': { ttftFactor: 1.8, tpsFactor: 0.6 } },
  },
};

/**
 * The phases of the seed table, each adding one optimisation, then this product's own critical path
 * (README, "The turn's timeline"); settings a tenant admin can set. Every row before the last keeps the
 * critical path as it was (the model always reads the question, nothing speculated, the model writes SQL).
 */
const CONFIGS: { name: string; tenant: string; settings: TenantSettingsPatch }[] = (() => {
  const baseline: TenantSettingsPatch = {
    exactCache: { enabled: false },
    semanticCache: { enabled: false },
    understanding: BEFORE_CRITICAL_PATH.understanding,
    pipeline: { parallel: false, ...BEFORE_CRITICAL_PATH.pipeline },
    generation: { providers: ['anthropic'], strategy: 'single', tiered: false, hedgeDelayMs: 'auto' },
  };
  const exact = { ...baseline, exactCache: { enabled: true } };
  const parallel = { ...exact, pipeline: { ...baseline.pipeline, parallel: true } };
  const racing = { ...parallel, generation: { ...baseline.generation, providers: ['anthropic', 'openai'] as ('anthropic' | 'openai')[], strategy: 'race' as const } };
  const semantic = { ...racing, semanticCache: { enabled: true } };
  const all = { ...semantic, generation: { ...racing.generation, tiered: true } };
  const path = { ...all, understanding: AFTER_CRITICAL_PATH.understanding, pipeline: { parallel: true, ...AFTER_CRITICAL_PATH.pipeline } };
  return [
    { name: 'baseline', tenant: 'bench_baseline', settings: baseline },
    { name: '+ exact cache', tenant: 'bench_exact', settings: exact },
    { name: '+ parallel capture/detect', tenant: 'bench_parallel', settings: parallel },
    { name: '+ racing', tenant: 'bench_racing', settings: racing },
    { name: '+ semantic cache', tenant: 'bench_semantic', settings: semantic },
    { name: '+ tiered models (all on)', tenant: 'bench_all', settings: all },
    { name: '+ critical path (default)', tenant: 'bench_path', settings: path },
  ];
})();

interface Sample {
  config: string;
  kind: TurnKind | 'probe';
  ok: boolean;
  e2eMs: number;
  ttftMs: number | null;
  cache?: string;
  /** End to end minus the model providers' time on the turn's critical path (misses only). */
  overheadMs?: number;
  /** First token minus the providers' time to it. */
  ttftOverheadMs?: number;
  listCostUsd?: number;
  error?: string;
  /** The turn's `done`. */
  done?: TurnResult;
}

const quantile = (xs: number[], q: number): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const round = (x: number | null, d = 0) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);
const log = (line: string) => process.stderr.write(`${line}\n`);

async function api(pathname: string, init: RequestInit & { key?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${init.key ?? ADMIN}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(new URL(pathname, BASE), { ...init, headers, signal: init.signal ?? AbortSignal.timeout(180_000) });
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The tenant of a configuration, created (from the acme template) or reused, with these settings and a fresh key. */
async function ensureTenant(id: string, settings: TenantSettingsPatch): Promise<string> {
  const created = await api('/v1/admin/tenants', { method: 'POST', body: JSON.stringify({ id, name: `Benchmark: ${id}`, template: 'acme', settings }) });
  if (created.status === 201 || created.status === 202) return ((await created.json()) as { apiKey: string }).apiKey;
  if (created.status !== 409) throw new Error(`creating ${id}: HTTP ${created.status} ${await created.text()}`);
  await json(await api(`/v1/admin/tenants/${id}/settings`, { method: 'PATCH', body: JSON.stringify(settings) }), `settings of ${id}`);
  return (await json<{ apiKey: string }>(await api(`/v1/admin/tenants/${id}/keys`, { method: 'POST' }), `key for ${id}`)).apiKey;
}

/** Provider time on the critical path of a turn, from its `done.calls`: understanding (parallel or not), SQL, the answer's race. */
function providerTime(calls: readonly ModelCall[], sequential: boolean): { total: number; toFirstToken: number } {
  const of = (step: string) => calls.filter((c) => c.step === step);
  const understanding = [...of('captureSlots'), ...of('detectIntent')].map((c) => c.ms);
  const pre =
    (sequential ? understanding.reduce((a, b) => a + b, 0) : Math.max(0, ...understanding)) +
    of('reconcileIntent').reduce((a, c) => a + c.ms, 0) +
    of('runSqlAgent').reduce((a, c) => a + c.ms, 0);
  const answer = of('generateAnswer');
  const streaming = answer.filter((c) => c.outcome === 'won' || c.outcome === 'speculative-won' || c.outcome === 'continuation' || c.outcome === 'stalled');
  const winner = answer.find((c) => c.outcome === 'won' || c.outcome === 'speculative-won');
  const answerTotal = Math.max(0, ...streaming.map((c) => c.startMs + c.ms));
  const answerFirst = winner ? winner.startMs + (winner.ttftMs ?? 0) : 0;
  // A speculative answer ran beside the understanding: the providers' time is the longer of the two.
  if (winner?.outcome === 'speculative-won') return { total: Math.max(pre, answerTotal), toFirstToken: Math.max(pre, answerFirst) };
  return { total: pre + answerTotal, toFirstToken: pre + answerFirst };
}

/** One turn through the API as a client sees it: SSE in the response, first token and `done` timed on arrival. */
async function turn(key: string, sessionId: string, message: string, config: string, kind: Sample['kind'], sequential: boolean): Promise<Sample> {
  const t0 = performance.now();
  try {
    const res = await api('/v1/turns', { key, method: 'POST', headers: { accept: 'text/event-stream' }, body: JSON.stringify({ sessionId, message }), signal: AbortSignal.timeout(60_000) });
    if (res.status !== 200 || !res.body) throw new Error(`HTTP ${res.status} ${await res.text()}`);
    let ttft: number | null = null;
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event === 'token' && ttft === null) ttft = performance.now() - t0;
        if (event === 'error') throw new Error(`turn error: ${data}`);
        if (event === 'done' && data) {
          const e2eMs = performance.now() - t0;
          const done = JSON.parse(data) as TurnResult;
          const sample: Sample = { config, kind, ok: true, e2eMs, ttftMs: ttft, cache: done.cache, listCostUsd: done.listCostUsd ?? 0, done };
          if (done.cache === 'none') {
            const p = providerTime(done.calls ?? [], sequential);
            sample.overheadMs = e2eMs - p.total;
            if (ttft !== null) sample.ttftOverheadMs = ttft - p.toFirstToken;
          }
          res.body.cancel?.().catch(() => {});
          return sample;
        }
      }
    }
    throw new Error('the stream ended without done');
  } catch (err) {
    return { config, kind, ok: false, e2eMs: performance.now() - t0, ttftMs: null, error: (err as Error).message };
  }
}

/** Closed-loop users on one configuration's workload until `until`. */
async function users(n: number, key: string, config: string, sequential: boolean, workload: WorkloadTurn[], until: number, out: Sample[], tag: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, u) => {
      const session = `bench-${tag}-${u}-${Date.now().toString(36)}`;
      while (performance.now() < until) {
        const w = workload[next++ % workload.length]!;
        out.push(await turn(key, session, w.message, config, w.kind, sequential));
      }
    }),
  );
}

/** Peak resident memory of the deployment's processes, sampled from their /metrics (prom-client's process metrics). */
function rssSampler(urls: string[]): { stop(): Promise<Record<string, number>> } {
  const peak: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        urls.map(async (u) => {
          try {
            const text = await (await fetch(u, { signal: AbortSignal.timeout(2000) })).text();
            const m = /^turnflow_process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)/m.exec(text);
            if (m) peak[u] = Math.max(peak[u] ?? 0, Number(m[1]) / 2 ** 20);
          } catch {
            // a missed sample
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}

async function main() {
  const started = Date.now();
  const health = await fetch(new URL('/healthz', BASE)).catch(() => null);
  if (!health?.ok) {
    console.error(`no healthy API at ${BASE.origin}: start it first (npm start), then run the benchmark`);
    process.exit(2);
  }
  const runtime = await json<{ deployment: string; offlineModelUrl: string | null }>(await api('/v1/admin/runtime'), 'runtime');
  const offlineUrl = args['offline-url'] ?? runtime.offlineModelUrl;
  if (!offlineUrl) {
    console.error('the benchmark needs the offline model (start the deployment without provider keys, or pass --offline-url)');
    process.exit(2);
  }
  const metricsUrls = (args['metrics-url'] ?? new URL('/metrics', BASE).href).split(',').filter(Boolean);
  log(`benchmark against ${BASE.origin} (${runtime.deployment}), offline model at ${offlineUrl}${QUICK ? ', quick' : ''}`);
  await json(await fetch(`${offlineUrl}/_offline/profiles`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BENCH_PROFILE) }), 'offline profiles');
  await fetch(`${offlineUrl}/_offline/reset-stats`, { method: 'POST' });

  log('tenants: creating or reusing one per configuration (a new one is provisioned from the acme template)…');
  const keys: Record<string, string> = {};
  for (const c of CONFIGS) {
    const t = Date.now();
    keys[c.name] = await ensureTenant(c.tenant, c.settings);
    // Cold caches: earlier runs' answers must not count.
    await json(await api('/v1/settings/invalidate-caches', { key: keys[c.name], method: 'POST' }), `invalidate ${c.tenant}`);
    log(`  ${c.tenant}: ready in ${Date.now() - t} ms`);
  }
  const workload = buildWorkload(2000);
  // Warm-up: connections, JIT, schema caches; one turn per configuration, not counted.
  await Promise.all(CONFIGS.map((c) => turn(keys[c.name]!, `bench-warmup-${Date.now()}`, `What was our revenue on 2026-0${1 + Math.floor(Math.random() * 5)}-1${Math.floor(Math.random() * 9)}?`, c.name, 'probe', c.settings.pipeline?.parallel === false)));

  // Phase 0: the critical path, before and after, new questions one at a time (caches invalidated before each).
  const perKind = QUICK ? 6 : 12;
  log(`phase 0: critical path, ${perKind} new questions of each kind, before and after, one at a time`);
  const before = { name: '+ tiered models (all on)', key: keys['+ tiered models (all on)']! };
  const afterCfg = { name: '+ critical path (default)', key: keys['+ critical path (default)']! };
  const pathSamples: PathSample[] = [];
  const pathDones: TurnResult[] = [];
  for (let i = 0; i < perKind; i++) {
    for (const kind of Object.keys(PATH_KINDS) as PathKind[]) {
      for (const [config, c] of [['before', before], ['after', afterCfg]] as const) {
        await json(await api('/v1/settings/invalidate-caches', { key: c.key, method: 'POST' }), 'invalidate');
        const s = await turn(c.key, `bench-path-${config}-${i}-${Date.now().toString(36)}`, PATH_KINDS[kind](i), c.name, 'probe', false);
        if (s.ok && s.done && s.ttftMs !== null && s.done.cache === 'none') {
          pathSamples.push(pathSample(config, kind, s.ttftMs, s.done));
          if (config === 'after') pathDones.push(s.done);
        } else if (!s.ok) log(`  ${config} ${kind}: ${s.error}`);
      }
    }
  }
  const criticalPath = pathRows(pathSamples);
  if (args.timeline) {
    const { bars, order } = timelines(pathSamples);
    const { svg, png } = await renderChart(timelineSpec(order, `The turn's timeline, before and after (${runtime.deployment}, ${new Date().toISOString().slice(0, 10)})`), bars as unknown as Record<string, unknown>[]);
    mkdirSync(path.dirname(args.timeline), { recursive: true });
    writeFileSync(args.timeline, svg);
    writeFileSync(args.timeline.replace(/\.svg$/, '') + '.png', png);
    log(`timeline: ${args.timeline} (+ .png)`);
  }

  if (args['critical-path-only']) {
    printCriticalPath(criticalPath, perKind, before.name, afterCfg.name);
    if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), deployment: runtime.deployment, profile: BENCH_PROFILE, criticalPath, speculation: speculationWaste(pathDones), compiledSql: compiledShare(pathDones) }, null, 2) + '\n');
    return;
  }

  // Phase 1: every configuration at once, closed-loop users, the same workload.
  log(`phase 1: ${CONFIGS.length} configurations × ${USERS} users for ${DURATION_S} s, interleaved`);
  const samples: Sample[] = [];
  const t1 = performance.now();
  const until = t1 + DURATION_S * 1000;
  const progress = setInterval(() => {
    const counts = CONFIGS.map((c) => samples.filter((s) => s.config === c.name).length);
    log(`  ${Math.round((performance.now() - t1) / 1000)} s: ${counts.join(' / ')} turns`);
  }, 10_000);
  await Promise.all(CONFIGS.map((c) => users(USERS, keys[c.name]!, c.name, c.settings.pipeline?.parallel === false, workload, until, samples, c.tenant)));
  clearInterval(progress);
  const phaseSeconds = (performance.now() - t1) / 1000;

  const rows = CONFIGS.map((c) => {
    const mine = samples.filter((s) => s.config === c.name);
    const ok = mine.filter((s) => s.ok);
    const e2e = ok.map((s) => s.e2eMs);
    const misses = ok.filter((s) => s.cache === 'none');
    return {
      name: c.name,
      tenant: c.tenant,
      turns: mine.length,
      failed: mine.length - ok.length,
      p50Ms: round(quantile(e2e, 0.5)),
      p95Ms: round(quantile(e2e, 0.95)),
      p99Ms: round(quantile(e2e, 0.99)),
      // Turns that streamed no token (a blocked question) have no first token: left out, not counted as their end.
      ttftP95Ms: round(quantile(ok.map((s) => s.ttftMs).filter((x): x is number => x !== null), 0.95)),
      throughputRps: round(ok.length / phaseSeconds, 2),
      exactHitRate: round(ok.filter((s) => s.cache === 'exact').length / Math.max(1, ok.length), 3),
      semanticHitRate: round(ok.filter((s) => s.cache === 'semantic').length / Math.max(1, ok.length), 3),
      costPerTurnUsd: round(ok.reduce((a, s) => a + (s.listCostUsd ?? 0), 0) / Math.max(1, ok.length), 6),
      overheadP95Ms: round(quantile(misses.map((s) => s.overheadMs!).filter(Number.isFinite), 0.95)),
      overheadP50Ms: round(quantile(misses.map((s) => s.overheadMs!).filter(Number.isFinite), 0.5)),
      ttftOverheadP95Ms: round(quantile(misses.map((s) => s.ttftOverheadMs).filter((x): x is number => x !== undefined), 0.95)),
    };
  });

  // Phase 2: exact hits, one at a time, warm.
  const all = CONFIGS.at(-1)!;
  const allKey = keys[all.name]!;
  log('phase 2: exact-cache hits, semantic-cache hits and misses, one at a time');
  const exactQ = 'What was our revenue in March 2026 by channel?';
  await turn(allKey, 'bench-exact', exactQ, all.name, 'probe', false);
  const exact: Sample[] = [];
  for (let i = 0; i < (QUICK ? 30 : 100); i++) exact.push(await turn(allKey, `bench-exact-${i}`, exactQ, all.name, 'probe', false));
  const exactHits = exact.filter((s) => s.ok && s.cache === 'exact').map((s) => s.e2eMs);

  // Semantic hits: reworded forms of a cached question (each form asked once, so none is an exact hit).
  const semanticQ = 'What was our revenue in February 2026 by region?';
  await turn(allKey, 'bench-semantic', semanticQ, all.name, 'probe', false);
  const forms = ['So, ', 'Hi, ', 'Quick question: ', 'Hey, ', 'OK, ', 'Please tell me: ', 'Hello! ', 'Tell me, ', 'Now, ', 'One more: '].flatMap((p) =>
    ['what was our revenue in February 2026 by region?', 'what was our revenue in February 2026 by region, please?', 'what was our revenue in February 2026 by region, thanks?'].map((q) => p + q),
  );
  const semantic: Sample[] = [];
  for (const [i, q] of forms.entries()) semantic.push(await turn(allKey, `bench-semantic-${i}`, q, all.name, 'probe', false));
  const semanticHits = semantic.filter((s) => s.ok && s.cache === 'semantic').map((s) => s.e2eMs);

  // Orchestration overhead without load: misses one at a time (each message new), the same profile.
  const alone: Sample[] = [];
  for (let i = 0; i < (QUICK ? 10 : 30); i++) {
    const tag = Math.random().toString(36).slice(2, 8);
    const message = i % 2 ? `Hello there, what can you do? (${tag})` : `What was our revenue on 2025-${String(1 + (i % 12)).padStart(2, '0')}-1${i % 10} in Europe? (${tag})`;
    alone.push(await turn(allKey, `bench-alone-${i}`, message, all.name, 'probe', false));
  }
  const aloneMisses = alone.filter((s) => s.ok && s.cache === 'none');
  const overheadAtOneUser = {
    turns: aloneMisses.length,
    p50Ms: round(quantile(aloneMisses.map((s) => s.overheadMs!), 0.5)),
    p95Ms: round(quantile(aloneMisses.map((s) => s.overheadMs!), 0.95)),
    ttftP50Ms: round(quantile(aloneMisses.map((s) => s.ttftOverheadMs).filter((x): x is number => x !== undefined), 0.5)),
    ttftP95Ms: round(quantile(aloneMisses.map((s) => s.ttftOverheadMs).filter((x): x is number => x !== undefined), 0.95)),
    e2eP50Ms: round(quantile(aloneMisses.map((s) => s.e2eMs), 0.5)),
  };

  // Phase 3: racing, on the racing bench's own profile (with faults), through the real SDKs.
  log('phase 3: racing against single providers');
  const racing = await runRacing({ calls: QUICK ? 80 : 200, runs: QUICK ? 1 : 3, concurrency: 12, strategies: ['anthropic only', 'openai only', 'turnflow hedged (auto)'] });
  const bestSingleP95Ms = round(Math.min(...racing.rows.filter((r) => r.name.endsWith('only')).map((r) => r.ttftP95Ms ?? Infinity)))!;
  const racedP95Ms = round(racing.rows.find((r) => r.name === 'turnflow hedged (auto)')!.ttftP95Ms);
  await json(await fetch(`${offlineUrl}/_offline/profiles`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BENCH_PROFILE) }), 'offline profiles');

  // Phase 4: 100 concurrent users on the all-on configuration, memory sampled from the processes' metrics.
  log(`phase 4: ${CONCURRENT_USERS} concurrent users for ${CONCURRENT_S} s`);
  const rss = rssSampler(metricsUrls);
  const crowd: Sample[] = [];
  await users(CONCURRENT_USERS, allKey, all.name, false, buildWorkload(2000, 7), performance.now() + CONCURRENT_S * 1000, crowd, 'crowd');
  const peaks = await rss.stop();
  const crowdOk = crowd.filter((s) => s.ok);
  const concurrency = {
    users: CONCURRENT_USERS,
    turns: crowd.length,
    failed: crowd.length - crowdOk.length,
    p50Ms: round(quantile(crowdOk.map((s) => s.e2eMs), 0.5)),
    p95Ms: round(quantile(crowdOk.map((s) => s.e2eMs), 0.95)),
    rssMb: round(Object.values(peaks).reduce((a, b) => a + b, 0)),
    rssByProcessMb: Object.fromEntries(Object.entries(peaks).map(([u, mb]) => [u, round(mb)])),
    errors: [...new Set(crowd.filter((s) => !s.ok).map((s) => s.error))].slice(0, 5),
  };

  const out = {
    label: args.label,
    date: new Date().toISOString(),
    deployment: runtime.deployment,
    quick: QUICK,
    profile: BENCH_PROFILE,
    workload: { mix: WORKLOAD_MIX, usersPerConfig: USERS, durationS: DURATION_S },
    configs: rows,
    exactHitP95Ms: round(quantile(exactHits, 0.95), 1),
    exactHitP50Ms: round(quantile(exactHits, 0.5), 1),
    exactHits: `${exactHits.length}/${exact.length}`,
    semanticHitP95Ms: round(quantile(semanticHits, 0.95), 1),
    semanticHitP50Ms: round(quantile(semanticHits, 0.5), 1),
    semanticHits: `${semanticHits.length}/${semantic.length}`,
    overheadAtOneUser,
    racing: { bestSingleP95Ms, racedP95Ms, ratio: racedP95Ms === null ? null : round(racedP95Ms / bestSingleP95Ms, 2), rows: racing.rows },
    concurrency,
    criticalPath,
    speculation: speculationWaste([...samples, ...crowd].filter((x) => x.config === all.name && x.done).map((x) => x.done!).concat(pathDones)),
    compiledSql: {
      criticalPath: compiledShare(pathDones),
      workload: compiledShare(samples.filter((x) => x.config === all.name && x.done).map((x) => x.done!)),
    },
    seconds: Math.round((Date.now() - started) / 1000),
  };

  const f = (x: number | null | undefined, w = 8) => String(x ?? '-').padStart(w);
  console.log(`\nturnflow benchmark, ${out.date} (${out.deployment}${QUICK ? ', quick' : ''}): ${USERS} users per configuration for ${DURATION_S} s, interleaved`);
  console.log(`workload: ${Object.entries(WORKLOAD_MIX).map(([k, v]) => `${Math.round(v * 100)} % ${k}`).join(', ')}`);
  console.log(`profile: ${JSON.stringify(BENCH_PROFILE)}\n`);
  console.log(['configuration'.padEnd(28), 'turns', 'failed', '     p50', '     p95', '     p99', 'ttft p95', '   rps', ' exact', '   sem', ' $/turn (list)', 'overhead p50', 'overhead p95', 'ttft ovh p95'].join(' '));
  for (const r of rows) {
    console.log([r.name.padEnd(28), f(r.turns, 5), f(r.failed, 6), f(r.p50Ms), f(r.p95Ms), f(r.p99Ms), f(r.ttftP95Ms), f(r.throughputRps, 6), f(r.exactHitRate, 6), f(r.semanticHitRate, 6), f(r.costPerTurnUsd, 14), f(r.overheadP50Ms, 12), f(r.overheadP95Ms, 12), f(r.ttftOverheadP95Ms, 12)].join(' '));
  }
  console.log(`\nexact hit through the API: p50 ${out.exactHitP50Ms} ms, p95 ${out.exactHitP95Ms} ms (${out.exactHits} hits)`);
  console.log(`semantic hit through the API: p50 ${out.semanticHitP50Ms} ms, p95 ${out.semanticHitP95Ms} ms (${out.semanticHits} hits)`);
  console.log(`misses one at a time: orchestration overhead p50 ${overheadAtOneUser.p50Ms} ms, p95 ${overheadAtOneUser.p95Ms} ms; first-token overhead p50 ${overheadAtOneUser.ttftP50Ms} ms, p95 ${overheadAtOneUser.ttftP95Ms} ms (${overheadAtOneUser.turns} turns, end to end p50 ${overheadAtOneUser.e2eP50Ms} ms)`);
  console.log(`racing: best single provider first-token p95 ${bestSingleP95Ms} ms, raced ${racedP95Ms} ms (${out.racing.ratio}×)`);
  console.log(`${CONCURRENT_USERS} users: ${concurrency.turns} turns, ${concurrency.failed} failed, p50 ${concurrency.p50Ms} ms, p95 ${concurrency.p95Ms} ms, peak RSS ${concurrency.rssMb} MB (${JSON.stringify(concurrency.rssByProcessMb)})`);
  printCriticalPath(criticalPath, perKind, before.name, afterCfg.name);
  const w = out.speculation;
  console.log(`speculation (${all.name}): ${w.speculated}/${w.turns} turns speculated; waste ${w.wastedOutputTokensPer1000Turns} output tokens and $${w.wastedListUsdPer1000Turns} (list) per 1,000 turns, ${(100 * w.wasteShareOfAnswerTokens).toFixed(1)} % of answer tokens`);
  const cs = out.compiledSql;
  console.log(`SQL compiled by the semantic layer: critical-path analytics ${cs.criticalPath.compiled}/${cs.criticalPath.ran}, workload analytics misses ${cs.workload.compiled}/${cs.workload.ran}`);
  console.log(`(${out.seconds} s in all)`);

  if (args.json) writeFileSync(args.json, JSON.stringify(out, null, 2) + '\n');
  if (args.chart) {
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: `End-to-end latency per configuration (${out.deployment}, ${out.date.slice(0, 10)})`, subtitle: 'each dot a turn; box = quartiles; log scale' },
      data: { name: 'table' },
      width: 640,
      height: 320,
      layer: [
        { mark: { type: 'boxplot', extent: 'min-max', opacity: 0.35 }, encoding: { y: { field: 'config', type: 'nominal', sort: CONFIGS.map((c) => c.name), title: null }, x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms (end to end, request to done)' } } },
        { mark: { type: 'tick', opacity: 0.25, thickness: 1 }, encoding: { y: { field: 'config', type: 'nominal', sort: CONFIGS.map((c) => c.name) }, x: { field: 'ms', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'cache', type: 'nominal', title: 'cache' } } },
      ],
    };
    const data = samples.filter((s) => s.ok).map((s) => ({ config: s.config, ms: Math.max(1, Math.round(s.e2eMs)), cache: s.cache }));
    const { svg, png } = await renderChart(spec, data);
    mkdirSync(path.dirname(args.chart), { recursive: true });
    writeFileSync(args.chart, svg);
    writeFileSync(args.chart.replace(/\.svg$/, '') + '.png', png);
    log(`chart: ${args.chart} (+ .png)`);
  }
}

/** The critical-path table (phase 0). */
function printCriticalPath(rows: ReturnType<typeof pathRows>, perKind: number, before: string, after: string): void {
  const f = (x: number | null | undefined, w = 8) => String(x ?? '-').padStart(w);
  console.log(`\ncritical path: ${perKind} new questions of each kind, one at a time; before = ${before} (the model always reads the question, nothing speculated, the model writes SQL), after = ${after}`);
  console.log(['kind'.padEnd(28), 'config', 'turns', 'first token p50', 'answer ttft p50', 'added p50', 'added p95', 'query p50', 'SQL call p50', 'compiled', 'on the way to the first token'].join('  '));
  for (const r of rows) {
    console.log([r.kind.padEnd(28), r.config.padEnd(6), f(r.turns, 5), f(r.firstTokenP50Ms, 15), f(r.answerTtftP50Ms, 15), f(r.addedP50Ms, 9), f(r.addedP95Ms, 9), f(r.queryP50Ms, 9), f(r.sqlCallP50Ms, 12), r.compiled.padStart(8), r.path].join('  '));
  }
}

await main();
process.exit(0);
