// `npm run bench`: the seed write-ups' phase table, reproduced side by side on one workload, against the
// running API (loopback only). Each configuration is a tenant created through the product's own tenant
// administration (admin key) with the settings of that phase; all run at once, interleaved, so machine
// noise hits them alike. The offline model's latency profiles are set through its admin endpoint. Then
// separate figures: exact-hit and semantic-hit latency, racing against the best single provider, and a
// 100-user run with the processes' peak memory.
//   npm start                      # or the split deployment (README), then:
//   npm run bench -- [--quick] [--json FILE] [--chart FILE.svg] [--label NAME] [--url URL] [--admin-key KEY]
//                    [--timeline FILE.svg] [--duration S] [--users N] [--offline-url URL] [--metrics-url URL,...]
//                    [--critical-path-only] [--cost-only] [--crowd-only] [--cost-turns N] [--temporal-address HOST:PORT] [--pid PID]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from '../../activities/charts/render.ts';
import type { TenantSettingsPatch } from '../../activities/tenant/settings.ts';
import type { ProviderProfile } from '../../infra/dev/offline-model/server.ts';
import type { ModelCall, TurnResult } from '../../workflows/shared/contract.ts';
import { AFTER_CRITICAL_PATH, BEFORE_CRITICAL_PATH, compiledShare, PATH_KINDS, pathRows, pathSample, speculationWaste, timelines, timelineSpec, type PathKind, type PathSample } from './critical-path.ts';
import { ZERO_LATENCY_PROFILE } from '../../infra/dev/offline-model/server.ts';
import { cpuByRole, cpuDelta, deploymentProcesses, EXCLUDED_ROLES, historyReader, idleCpuPerSecond, type HistoryFigures } from './cost.ts';
import { runRacing } from './racing.ts';
import { loadConfig } from '../../infra/config.ts';
import { resolvePayloadKeys } from '../../infra/payload-keys.ts';
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
    'cost-only': { type: 'boolean', default: false },
    'crowd-only': { type: 'boolean', default: false },
    'cost-turns': { type: 'string' },
    'temporal-address': { type: 'string', default: '127.0.0.1:7233' },
    pid: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
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
const ONE_USER_S = QUICK ? 15 : 30;
const THINK_MEAN_MS = 5000;
/**
 * The crowd's tenant: per-minute and concurrency limits above what 100 users can ask, so that what refuses
 * them in the overload run is the deployment's own in-flight bound (503), as it would for many tenants at once.
 */
const CROWD_LIMITS = { turnsPerMinute: 100_000, concurrentTurns: 10_000, dailyTokens: null, perKey: { turnsPerMinute: 100_000, concurrentTurns: 10_000 } };

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
  /** Refused before it started (429 or 503): status, Retry-After (s); e2eMs is the time to the refusal. */
  refused?: { status: number; retryAfterS: number | null; code?: string; serverMs?: number };
  /** Admitted, but its stream ended (or timed out) without `done` or `error`. */
  lost?: boolean;
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
    if (res.status === 429 || res.status === 503) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      const retryAfter = res.headers.get('retry-after');
      const serverMs = /admission;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1];
      return { config, kind, ok: false, e2eMs: performance.now() - t0, ttftMs: null, refused: { status: res.status, retryAfterS: retryAfter === null ? null : Number(retryAfter), ...(body.error?.code ? { code: body.error.code } : {}), ...(serverMs ? { serverMs: Number(serverMs) } : {}) } };
    }
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
    return { config, kind, ok: false, e2eMs: performance.now() - t0, ttftMs: null, error: 'the stream ended without done', lost: true };
  } catch (err) {
    const lost = (err as Error).name === 'TimeoutError';
    return { config, kind, ok: false, e2eMs: performance.now() - t0, ttftMs: null, error: (err as Error).message, ...(lost ? { lost } : {}) };
  }
}

/** Exponentially distributed think time (ms) with this mean. */
const thinkMs = (meanMs: number) => -Math.log(1 - Math.random()) * meanMs;

/**
 * Users on one configuration's workload until `until`: closed loop (the next question as soon as the answer
 * is complete), or with `thinkMeanMs`, reading the answer first (exponential think time; users start spread
 * over one think time). A refused user waits what Retry-After says (at least a second) and asks again.
 */
async function users(n: number, key: string, config: string, sequential: boolean, workload: WorkloadTurn[], until: number, out: Sample[], tag: string, thinkMeanMs = 0): Promise<void> {
  let next = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, until - performance.now()))));
  await Promise.all(
    Array.from({ length: n }, async (_, u) => {
      const session = `bench-${tag}-${u}-${Date.now().toString(36)}`;
      if (thinkMeanMs) await sleep(Math.random() * thinkMeanMs);
      while (performance.now() < until) {
        const w = workload[next++ % workload.length]!;
        const s = await turn(key, session, w.message, config, w.kind, sequential);
        out.push(s);
        if (s.refused) await sleep(1000 * Math.max(1, s.refused.retryAfterS ?? 1) * (1 + Math.random() * 0.2));
        else if (thinkMeanMs) await sleep(thinkMs(thinkMeanMs));
      }
    }),
  );
}

type CrowdFigures = ReturnType<typeof crowdFigures>;

/** What a crowd run did: admitted turns' latency, refusals and how fast they came, failed and lost turns, memory. */
function crowdFigures(samples: Sample[], seconds: number, peaks: Record<string, number>) {
  const refused = samples.filter((s) => s.refused);
  const admitted = samples.filter((s) => !s.refused);
  const ok = admitted.filter((s) => s.ok);
  const e2e = ok.map((s) => s.e2eMs);
  const byStatus: Record<string, number> = {};
  for (const r of refused) byStatus[`${r.refused!.status} ${r.refused!.code ?? ''}`.trim()] = (byStatus[`${r.refused!.status} ${r.refused!.code ?? ''}`.trim()] ?? 0) + 1;
  return {
    turns: samples.length,
    admitted: admitted.length,
    answered: ok.length,
    turnsPerSecond: round(ok.length / seconds, 1),
    p50Ms: round(quantile(e2e, 0.5)),
    p95Ms: round(quantile(e2e, 0.95)),
    p99Ms: round(quantile(e2e, 0.99)),
    ttftP95Ms: round(quantile(ok.map((s) => s.ttftMs).filter((x): x is number => x !== null), 0.95)),
    refused: refused.length,
    refusedByStatus: byStatus,
    refusalP95Ms: round(quantile(refused.map((s) => s.e2eMs), 0.95), 1),
    refusalMaxMs: round(refused.length ? Math.max(...refused.map((s) => s.e2eMs)) : null, 1),
    // The server's own time to refuse (its Server-Timing), without the client's and the network's queueing.
    refusalServerP95Ms: round(quantile(refused.map((s) => s.refused!.serverMs).filter((x): x is number => x !== undefined), 0.95), 1),
    refusalServerMaxMs: round(refused.some((s) => s.refused!.serverMs !== undefined) ? Math.max(...refused.map((s) => s.refused!.serverMs ?? 0)) : null, 1),
    refusalsWithoutRetryAfter: refused.filter((s) => s.refused!.retryAfterS === null).length,
    failed: admitted.filter((s) => !s.ok && !s.lost).length,
    lost: admitted.filter((s) => s.lost).length,
    rssMb: round(Object.values(peaks).reduce((a, b) => a + b, 0)),
    rssByProcessMb: Object.fromEntries(Object.entries(peaks).map(([u, mb]) => [u, round(mb)])),
    errors: [...new Set(admitted.filter((s) => !s.ok).map((s) => s.error))].slice(0, 5),
  };
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

/** What GET /v1/admin/runtime says of the deployment. */
interface Runtime {
  deployment: string;
  offlineModelUrl: string | null;
  pid?: number;
  services?: { redis: boolean; postgres: boolean } | null;
}

// Plain phrasings the rules are sure of, combined into new questions (42 greetings, 44 policy questions).
const GREETINGS = ['Hi there!', 'Hello!', 'Good morning!', 'Hey!', 'Good afternoon!', 'Good evening!', 'Hi!'];
const PLEASANTRIES = ['Nice to meet you.', 'How are you today?', 'Thanks for the help!', 'How are you?', 'Thank you so much!', 'Have a nice day!'];
const POLICY_QUESTIONS = ['What is your return policy?', 'How does shipping work?', 'What is your warranty policy?', 'Which payment methods do you accept?', 'How do returns work?', 'Do you ship internationally?', 'What does the warranty cover?', 'Can I pay with PayPal?', 'How does the loyalty program work?', 'What is your privacy policy?', 'How much is shipping?'];

/** The kinds of turn whose server cost is measured, each asked `n` times, a new question each time (hits: the same one). */
const COST_KINDS = ['small talk, miss (semantic cache off)', 'policy question, miss (semantic cache off)', 'analytics, miss (compiled)', 'unsure, miss (model reads it)', 'exact hit', 'semantic hit'] as const;
type CostKind = (typeof COST_KINDS)[number];

interface CostRow {
  kind: CostKind;
  turns: number;
  failed: number;
  /** CPU ms per turn by process role (idle CPU over the same wall time subtracted). */
  cpuMsPerTurn: Record<string, number>;
  /** Every process but the offline model. */
  serverCpuMsPerTurn: number;
  wallP50Ms: number | null;
  /** Median over the kind's turns. */
  history: HistoryFigures | null;
}

interface CostFigures {
  deployment: string;
  turnsPerKind: number;
  processes: Record<string, number>;
  idleCpuMsPerSecond: Record<string, number>;
  rows: CostRow[];
}

const cpuTotals = (c: CostFigures): Record<string, number> => Object.fromEntries(c.rows.map((r) => [r.kind, r.serverCpuMsPerTurn]));

/**
 * Server CPU per turn kind, per process, and history size: one turn at a time at zero model latency (the
 * provider's time is not the product's), each turn's bookkeeping after `done` (persist, cache writes, the
 * workflow's last tasks) let finish before the next. Misses are new questions of plain phrasing (the rules
 * are sure of them) on a tenant whose semantic threshold only the same text reaches: they still make the
 * semantic search, but one greeting never answers another.
 */
async function costPhase(runtime: Runtime, offlineUrl: string): Promise<CostFigures> {
  const n = Number(args['cost-turns'] ?? (QUICK ? 20 : 40));
  // --pid: the API's process, for a deployment that does not report it (an older release, measured for comparison).
  if (args.pid) runtime = { ...runtime, pid: Number(args.pid) };
  if (!runtime.pid) throw new Error('the API does not report its pid (GET /v1/admin/runtime): update it, or measure by hand');
  const procs = deploymentProcesses(runtime.pid, runtime.services ?? { redis: true, postgres: true });
  const processes: Record<string, number> = {};
  for (const p of procs) processes[p.role] = (processes[p.role] ?? 0) + 1;
  log(`cost: ${n} turns of each kind, one at a time, zero model latency; processes ${JSON.stringify(processes)}`);
  await json(await fetch(`${offlineUrl}/_offline/profiles`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ anthropic: ZERO_LATENCY_PROFILE, openai: ZERO_LATENCY_PROFILE }) }), 'offline profiles');
  const missKey = await ensureTenant('bench_cost', { exactCache: { enabled: true }, semanticCache: { enabled: true, threshold: 0.9999, suggestThreshold: 0.7 } });
  // Every greeting embeds alike, and so do a policy question's phrasings (the semantic cache answers them all
  // from one): their misses need the cache off. Analytics misses (new dates) keep it: they make the search.
  const plainKey = await ensureTenant('bench_cost_plain', { semanticCache: { enabled: false } });
  const hitKey = await ensureTenant('bench_cost_hits', {});
  for (const key of [missKey, plainKey, hitKey]) await json(await api('/v1/settings/invalidate-caches', { key, method: 'POST' }), 'invalidate');
  const run = Date.now().toString(36);
  const exactQ = 'What was our revenue in March 2026 by channel?';
  const semanticQ = 'What was our revenue in February 2026 by region?';
  const forms = ['So, ', 'Hi, ', 'Quick question: ', 'Hey, ', 'OK, ', 'Please tell me: ', 'Hello! ', 'Tell me, ', 'Now, ', 'One more: ', 'Right, ', 'Well, '].flatMap((p) =>
    ['what was our revenue in February 2026 by region?', 'what was our revenue in February 2026 by region, please?', 'what was our revenue in February 2026 by region, thanks?', 'what was our revenue in February 2026 by region, thank you?'].map((q) => p + q),
  );
  const question: Record<CostKind, (i: number) => { key: string; message: string }> = {
    'small talk, miss (semantic cache off)': (i) => ({ key: plainKey, message: `${GREETINGS[i % 7]} ${PLEASANTRIES[Math.floor(i / 7) % 6]}` }),
    'policy question, miss (semantic cache off)': (i) => ({ key: plainKey, message: `${['', 'Quick question: ', 'Please tell me: ', 'One more thing: '][Math.floor(i / 11) % 4]}${POLICY_QUESTIONS[i % 11]}` }),
    'analytics, miss (compiled)': (i) => ({ key: missKey, message: `What was our revenue on ${new Date(Date.UTC(2025, 0, 1) + (i * 7 + (Date.now() % 97)) * 86_400_000).toISOString().slice(0, 10)} in Europe?` }),
    // A name makes the rules unsure of a greeting: the model's capture and detect run, the answer is speculated.
    'unsure, miss (model reads it)': (i) => ({ key: missKey, message: `${GREETINGS[Math.floor(i / 8) % 7]} Nice to meet you, I am ${['Alice', 'Bruno', 'Chen', 'Dana', 'Emil', 'Farah', 'Goran', 'Hana'][i % 8]}.` }),
    'exact hit': () => ({ key: hitKey, message: exactQ }),
    'semantic hit': (i) => ({ key: hitKey, message: forms[i % forms.length]! }),
  };
  // Warm-up (not counted): connections, JIT, caches filled for the hit kinds.
  // (On the hits' tenant, so that no measured miss finds a warm-up's answer.)
  for (const kind of COST_KINDS) for (let i = 0; i < 3; i++) await turn(hitKey, `bench-cost-warm-${run}`, question[kind](i).message, 'cost', 'probe', false);
  await turn(hitKey, `bench-cost-${run}`, exactQ, 'cost', 'probe', false);
  await turn(hitKey, `bench-cost-${run}`, semanticQ, 'cost', 'probe', false);
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await idleCpuPerSecond(procs, QUICK ? 3 : 6);
  const settleMs = 300;
  const rows: CostRow[] = [];
  const workflows: Record<string, string[]> = {};
  for (const kind of COST_KINDS) {
    const samples: Sample[] = [];
    const before = cpuByRole(procs);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const q = question[kind](i);
      samples.push(await turn(q.key, `bench-cost-${run}-${kind.length}-${i}`, q.message, 'cost', 'probe', false));
      // The turn's bookkeeping after `done` belongs to it: let it finish before the next turn.
      await new Promise((r) => setTimeout(r, settleMs));
    }
    const seconds = (performance.now() - t0) / 1000;
    const delta = cpuDelta(before, cpuByRole(procs));
    const ok = samples.filter((x) => x.ok);
    const want = kind === 'exact hit' ? 'exact' : kind === 'semantic hit' ? 'semantic' : 'none';
    const counted = ok.filter((x) => x.cache === want).length;
    if (counted < ok.length) log(`  ${kind}: ${ok.length - counted} of ${ok.length} turns were not a ${want === 'none' ? 'miss' : `${want} hit`} (counted all the same)`);
    const perTurn = Object.fromEntries(Object.entries(delta).map(([role, ms]) => [role, round(Math.max(0, ms - (idle[role] ?? 0) * seconds) / Math.max(1, ok.length), 1)!]));
    // Hits the API answered have no workflow of their own (they are recorded in batches: api/cached-turns.ts).
    workflows[kind] = ok.filter((x) => x.cache === want).map((x) => x.done!.workflowId);
    rows.push({
      kind,
      turns: samples.length,
      failed: samples.length - ok.length,
      cpuMsPerTurn: perTurn,
      serverCpuMsPerTurn: round(Object.entries(perTurn).filter(([r]) => !EXCLUDED_ROLES.includes(r as never)).reduce((a, [, ms]) => a + ms, 0), 1)!,
      wallP50Ms: round(quantile(ok.map((x) => x.e2eMs), 0.5)),
      history: null,
    });
    log(`  ${kind}: ${rows.at(-1)!.serverCpuMsPerTurn} ms of server CPU per turn ${JSON.stringify(perTurn)}`);
  }
  // Histories are read after the measured turns (reading them costs the Temporal server too).
  const histories = await historyReader(args['temporal-address']!, args.namespace!, benchPayloadCodec()).catch((err) => {
    log(`  histories: cannot reach Temporal at ${args['temporal-address']} (${(err as Error).message}); pass --temporal-address`);
    return null;
  });
  if (histories) {
    for (const row of rows) {
      const figs = (await Promise.all(workflows[row.kind]!.slice(0, 10).map((w) => histories.read(w)))).filter((h): h is HistoryFigures => h !== null);
      if (!figs.length) continue;
      const med = (pick: (h: HistoryFigures) => number) => quantile(figs.map(pick), 0.5)!;
      row.history = { events: med((h) => h.events), bytes: med((h) => h.bytes), workflowTasks: med((h) => h.workflowTasks), activities: med((h) => h.activities), markers: med((h) => h.markers), searchAttributeUpserts: med((h) => h.searchAttributeUpserts) };
    }
    await histories.close();
  }
  await json(await fetch(`${offlineUrl}/_offline/profiles`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BENCH_PROFILE) }), 'offline profiles');
  return { deployment: runtime.deployment, turnsPerKind: n, processes, idleCpuMsPerSecond: Object.fromEntries(Object.entries(idle).map(([r, v]) => [r, round(v, 2)!])), rows };
}

/** The 100-user runs. */
function printCrowd(c: { oneUser: CrowdFigures; realistic: CrowdFigures; overload: CrowdFigures & { p95VsOneUser: number | null } }): void {
  const line = (name: string, x: CrowdFigures) =>
    `${name}: ${x.answered} answered (${x.turnsPerSecond} turns/s), p50 ${x.p50Ms} / p95 ${x.p95Ms} / p99 ${x.p99Ms} ms; ${x.refused} refused ${JSON.stringify(x.refusedByStatus)} (p95 ${x.refusalP95Ms} ms, max ${x.refusalMaxMs} ms as the client saw them; the server's own p95 ${x.refusalServerP95Ms} ms, max ${x.refusalServerMaxMs} ms; ${x.refusalsWithoutRetryAfter} without Retry-After); ${x.failed} failed, ${x.lost} lost; peak RSS ${x.rssMb} MB ${JSON.stringify(x.rssByProcessMb)}`;
  console.log(line('one user, closed loop', c.oneUser));
  console.log(line(`${CONCURRENT_USERS} users reading first (think ${THINK_MEAN_MS / 1000} s)`, c.realistic));
  console.log(line(`${CONCURRENT_USERS} users, closed loop (overload)`, c.overload) + `; admitted p95 = ${c.overload.p95VsOneUser}× one user's`);
}

/** The cost table. */
function printCost(c: CostFigures): void {
  const roles = [...new Set(c.rows.flatMap((r) => Object.keys(r.cpuMsPerTurn)))].sort((a, b) => Number(EXCLUDED_ROLES.includes(a as never)) - Number(EXCLUDED_ROLES.includes(b as never)));
  console.log(`\nserver CPU per turn (${c.deployment}): ${c.turnsPerKind} turns of each kind one at a time, zero model latency, idle CPU subtracted (ms per turn; the offline model, a provider's stand-in, is not counted in "server")`);
  console.log(['kind'.padEnd(28), 'wall p50', ...roles.map((r) => r.padStart(Math.max(8, r.length))), '  server', 'history events', 'bytes', 'WFTs', 'activities', 'markers', 'upserts'].join('  '));
  for (const r of c.rows) {
    const h = r.history;
    console.log([r.kind.padEnd(28), String(r.wallP50Ms ?? '-').padStart(8), ...roles.map((x) => String(r.cpuMsPerTurn[x] ?? '-').padStart(Math.max(8, x.length))), String(r.serverCpuMsPerTurn).padStart(8), String(h?.events ?? '-').padStart(14), String(h?.bytes ?? '-').padStart(5), String(h?.workflowTasks ?? '-').padStart(4), String(h?.activities ?? '-').padStart(10), String(h?.markers ?? '-').padStart(7), String(h?.searchAttributeUpserts ?? '-').padStart(7)].join('  '));
  }
  console.log(`idle CPU per second: ${JSON.stringify(c.idleCpuMsPerSecond)} ms`);
}

/**
 * 100 users, two ways, on the all-on configuration's settings and workload: (a) realistic, users who read the
 * answer before asking again; (b) overload, closed loop. Their reference: one closed-loop user.
 */
async function crowdPhase(metricsUrls: string[]) {
  const all = CONFIGS.at(-1)!;
  // 100 users, two ways, on the all-on configuration's workload, memory sampled from the processes'
  // metrics: (a) realistic, users who read the answer before asking again (think time, mean 5 s); (b)
  // overload, 100 closed-loop users. Their reference: one closed-loop user on the same workload.
  const crowdKey = await ensureTenant('bench_crowd', { ...all.settings, limits: CROWD_LIMITS } as TenantSettingsPatch);
  log(`phase 4: one user for ${ONE_USER_S} s (the reference), then ${CONCURRENT_USERS} users who read first (${THINK_MEAN_MS / 1000} s mean think time) for ${CONCURRENT_S} s, then ${CONCURRENT_USERS} closed-loop users for ${CONCURRENT_S} s`);
  const crowdRun = async (n: number, seconds: number, think: number, tag: string) => {
    // Each run starts cold, as the workload's mix of new questions and repeats assumes.
    await json(await api('/v1/settings/invalidate-caches', { key: crowdKey, method: 'POST' }), 'invalidate');
    const rss = rssSampler(metricsUrls);
    const out: Sample[] = [];
    const t = performance.now();
    await users(n, crowdKey, all.name, false, buildWorkload(2000, 7), t + seconds * 1000, out, tag, think);
    const elapsed = (performance.now() - t) / 1000;
    return crowdFigures(out, elapsed, await rss.stop());
  };
  const oneUser = await crowdRun(1, ONE_USER_S, 0, 'one');
  const realistic = { users: CONCURRENT_USERS, thinkMeanMs: THINK_MEAN_MS, ...(await crowdRun(CONCURRENT_USERS, CONCURRENT_S, THINK_MEAN_MS, 'realistic')) };
  const overloadRun = await crowdRun(CONCURRENT_USERS, CONCURRENT_S, 0, 'overload');
  const overload = { users: CONCURRENT_USERS, ...overloadRun, oneUserP95Ms: oneUser.p95Ms, p95VsOneUser: oneUser.p95Ms && overloadRun.p95Ms ? round(overloadRun.p95Ms / oneUser.p95Ms, 2) : null };
  // The contract's `concurrency` figures: the closed-loop 100 users, as before.
  const concurrency = { users: CONCURRENT_USERS, turns: overload.turns, failed: overload.failed + overload.lost, p50Ms: overload.p50Ms, p95Ms: overload.p95Ms, rssMb: overload.rssMb, rssByProcessMb: overload.rssByProcessMb, errors: overload.errors };

  return { oneUser, realistic, overload, concurrency };
}

async function main() {
  const started = Date.now();
  const health = await fetch(new URL('/healthz', BASE)).catch(() => null);
  if (!health?.ok) {
    console.error(`no healthy API at ${BASE.origin}: start it first (npm start), then run the benchmark`);
    process.exit(2);
  }
  const runtime = await json<Runtime>(await api('/v1/admin/runtime'), 'runtime');
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
  if (args['crowd-only']) {
    const crowd = await crowdPhase(metricsUrls);
    printCrowd(crowd);
    if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), deployment: runtime.deployment, ...crowd }, null, 2) + '\n');
    return;
  }
  if (args['cost-only']) {
    const cost = await costPhase(runtime, offlineUrl);
    printCost(cost);
    if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), deployment: runtime.deployment, cpuMsPerTurn: cpuTotals(cost), cost }, null, 2) + '\n');
    return;
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
      // Refused turns (429/503, the user came back after Retry-After) are not failures: counted apart.
      failed: mine.filter((x) => !x.ok && !x.refused).length,
      refused: mine.filter((x) => x.refused).length,
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
  // Cold first: a paraphrase in the workload may have cached this question semantically (then every probe
  // would be a semantic hit, and a semantic hit is never written to the exact cache).
  await json(await api('/v1/settings/invalidate-caches', { key: allKey, method: 'POST' }), 'invalidate');
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

  // Phase 2b: what each kind of turn costs the servers (CPU per process, history size), one at a time.
  const cost = await costPhase(runtime, offlineUrl);

  // Phase 3: racing, on the racing bench's own profile (with faults), through the real SDKs.
  log('phase 3: racing against single providers');
  const racing = await runRacing({ calls: QUICK ? 80 : 200, runs: QUICK ? 1 : 3, concurrency: 12, strategies: ['anthropic only', 'openai only', 'turnflow hedged (auto)'] });
  const bestSingleP95Ms = round(Math.min(...racing.rows.filter((r) => r.name.endsWith('only')).map((r) => r.ttftP95Ms ?? Infinity)))!;
  const racedP95Ms = round(racing.rows.find((r) => r.name === 'turnflow hedged (auto)')!.ttftP95Ms);
  await json(await fetch(`${offlineUrl}/_offline/profiles`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BENCH_PROFILE) }), 'offline profiles');

  // Phase 4: 100 users, two ways (crowdPhase).
  const { oneUser, realistic, overload, concurrency } = await crowdPhase(metricsUrls);

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
    oneUser,
    realistic,
    overload,
    cpuMsPerTurn: cpuTotals(cost),
    cost,
    criticalPath,
    speculation: speculationWaste(samples.filter((x) => x.config === all.name && x.done).map((x) => x.done!).concat(pathDones)),
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
  console.log(['configuration'.padEnd(28), 'turns', 'failed', 'refused', '     p50', '     p95', '     p99', 'ttft p95', '   rps', ' exact', '   sem', ' $/turn (list)', 'overhead p50', 'overhead p95', 'ttft ovh p95'].join(' '));
  for (const r of rows) {
    console.log([r.name.padEnd(28), f(r.turns, 5), f(r.failed, 6), f(r.refused, 7), f(r.p50Ms), f(r.p95Ms), f(r.p99Ms), f(r.ttftP95Ms), f(r.throughputRps, 6), f(r.exactHitRate, 6), f(r.semanticHitRate, 6), f(r.costPerTurnUsd, 14), f(r.overheadP50Ms, 12), f(r.overheadP95Ms, 12), f(r.ttftOverheadP95Ms, 12)].join(' '));
  }
  console.log(`\nexact hit through the API: p50 ${out.exactHitP50Ms} ms, p95 ${out.exactHitP95Ms} ms (${out.exactHits} hits)`);
  console.log(`semantic hit through the API: p50 ${out.semanticHitP50Ms} ms, p95 ${out.semanticHitP95Ms} ms (${out.semanticHits} hits)`);
  console.log(`misses one at a time: orchestration overhead p50 ${overheadAtOneUser.p50Ms} ms, p95 ${overheadAtOneUser.p95Ms} ms; first-token overhead p50 ${overheadAtOneUser.ttftP50Ms} ms, p95 ${overheadAtOneUser.ttftP95Ms} ms (${overheadAtOneUser.turns} turns, end to end p50 ${overheadAtOneUser.e2eP50Ms} ms)`);
  console.log(`racing: best single provider first-token p95 ${bestSingleP95Ms} ms, raced ${racedP95Ms} ms (${out.racing.ratio}×)`);
  printCrowd({ oneUser, realistic, overload });
  printCost(cost);
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

/** The deployment's payload codec, from this environment (PAYLOAD_KEYS, or the development key in DATA_DIR that `npm start` uses). */
function benchPayloadCodec() {
  try {
    return resolvePayloadKeys(loadConfig()).codec;
  } catch (err) {
    log(`  histories: no payload keys (${(err as Error).message}); encrypted memos will not decode`);
    return undefined;
  }
}
