// Prometheus metrics (prom-client): what every finished turn did, its model calls, and the HTTP API.
// One registry per process, built by `createMetrics()`; `npm start` shares one between API and worker, so
// the API's /metrics shows turn metrics too; a standalone worker serves its own on METRICS_PORT.
//
// Metrics (all prefixed `turnflow_`; durations in seconds, buckets 5 ms to 30 s):
//   turns_total{tenant,cache,intent,outcome}          finished turns; outcome answered|canned|blocked|cancelled|failed
//   turn_duration_seconds{tenant,cache}               request accepted → terminal event (histogram)
//   turn_first_token_seconds{tenant,cache}            request accepted → first answer token (histogram; turns that had one)
//   turn_fallbacks_total{tenant,kind}                 fallbacks taken (`done.fallbacks`: gatherContext:profile, generateAnswer:anthropic…)
//   guardrail_denials_total{tenant}                   turns the input guardrail denied (error content_policy)
//   reconciled_turns_total{tenant}                    turns whose intent detection was reconciled
//   model_calls_total{provider,step,outcome}          model calls (`done.calls`); outcome ok|won|lost|failed|timeout|stalled|continuation|cancelled
//   model_first_token_seconds{provider,step}          call start → first content token (histogram)
//   model_call_duration_seconds{provider,step,outcome} call start → end or cancellation (histogram)
//   step_duration_seconds{step}                       each turn step (`done.timings.steps`; histogram)
//   tokens_total{tenant,provider,kind}                billed tokens; kind input|output|cache_read|cache_write
//   cost_usd_total{tenant}                            what the model calls cost
//   list_cost_usd_total{tenant}                       the same tokens at the list price of the models asked for
//   admission_refused_total{tenant,limit}             turns refused before they started (429/503); limit e.g. key.turnsPerMinute, process.inFlight
//   the admission gauges, in the registry of a process that admits turns (the API; `observeAdmission`):
//   turns_in_flight                                   turns this API process admitted that have not ended (MAX_INFLIGHT_TURNS bounds it)
//   turns_running                                     turns running in the deployment, over every API process
//   turn_capacity{bound="deployment"}                 the deployment's bound: its live workers' WORKER_MAX_TURNS summed (absent: none)
//   budget_used{tenant,kind}                          what the tenant used today (UTC) of its daily budgets; kind tokens|cost_usd
//   http_requests_total{method,route,status}          API requests; route is the Express pattern (/v1/turns/:turnId)
//   http_request_duration_seconds{method,route}       API request duration, to the end of the response (an SSE stream's whole life)
//   plus prom-client's default process metrics (CPU, memory, event loop lag, GC), with the same prefix.
// Label values come from bounded sets (tenants, intents, steps, providers, route patterns), never from ids.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TurnResult } from '../workflows/shared/contract.ts';
import type { Logger } from './logger.ts';
import { logTurn } from './turn-log.ts';

/** Histogram buckets of turn, call, step and request durations, in seconds: 5 ms to 30 s. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** How a turn ended, as metrics and stats count it. */
export type TurnOutcome = 'answered' | 'canned' | 'blocked' | 'cancelled' | 'failed';

/**
 * A turn's outcome: by `error.code` when it ended with an `error` event (`content_policy` is the input
 * guardrail's denial), `canned` for the answer given when every provider failed (no cache hit, no provider),
 * `answered` otherwise.
 */
export function turnOutcome(result: Pick<TurnResult, 'error' | 'cache' | 'provider'>): TurnOutcome {
  if (result.error) return result.error.code === 'content_policy' ? 'blocked' : result.error.code === 'cancelled' ? 'cancelled' : 'failed';
  return result.cache === 'none' && !result.provider ? 'canned' : 'answered';
}

/** The turn's cost at list prices: `listCostUsd`, else the sum over its calls, else (rows written before either existed) its billed cost. */
export function listCostOf(result: Pick<TurnResult, 'listCostUsd' | 'calls' | 'costUsd'>): number {
  if (typeof result.listCostUsd === 'number') return result.listCostUsd;
  if (result.calls?.length) return result.calls.reduce((sum, c) => sum + (c.listCostUsd ?? 0), 0);
  return result.costUsd ?? 0;
}

/** `timings.steps` entries that are durations: the SQL agent also records its attempt count there. */
export function isDurationStep(name: string): boolean {
  return !name.endsWith('.attempts');
}

/** The admission figures behind the gauges. */
export interface AdmissionFigures {
  inFlight: number;
  running: number;
  capacity: number | null;
  budgets: { tenant: string; tokens: number; costUsd: number }[];
}

/** What the admission gauges read at a scrape: the API's admission (activities/admission/admission.ts), passed in by the wiring. */
export interface AdmissionGaugeSource {
  gauges(): Promise<AdmissionFigures>;
}

/** A process's metrics: the registry, the turn recorder the worker calls, the HTTP middleware the API uses. */
export interface Metrics {
  registry: Registry;
  /** Counts one finished turn; called once per turn, when its terminal event is written. */
  recordTurn(tenantId: string, result: TurnResult): void;
  /** Counts a turn refused before it started, by the limit that refused it (README, "Admission control"). */
  recordRefusal(tenantId: string, limit: string): void;
  /** Counts a feedback post on a turn, by rating and what it did to the example store (README, "Feedback that teaches"). */
  recordFeedback(tenantId: string, rating: string, example: string): void;
  /** Registers the admission gauges (in flight, running, capacity, budgets), read from `source` at each scrape; once per registry. */
  observeAdmission(source: AdmissionGaugeSource): void;
  /**
   * Registers `turnflow_dependency_up{dependency}` (1 reachable, 0 not), from `check` at each scrape: the
   * same probes as /healthz. A later call replaces the source (one gauge per registry).
   */
  observeDependencies(check: () => Promise<Record<string, string>>): void;
  /** Counts API requests by method, route pattern and status. */
  httpMiddleware(): RequestHandler;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** Content type of `render()`'s output. */
  contentType: string;
}

/** Builds a registry with turnflow's metrics and prom-client's default process metrics. */
export function createMetrics(opts: { defaultMetrics?: boolean; /** Each counted turn also gets its one info line here (infra/turn-log.ts). */ turnLog?: Logger } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'turnflow_' });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: DURATION_BUCKETS, registers });

  const turns = counter('turnflow_turns_total', 'Finished turns by cache outcome, intent and outcome.', ['tenant', 'cache', 'intent', 'outcome']);
  const turnDuration = histogram('turnflow_turn_duration_seconds', 'Turn duration from request to terminal event.', ['tenant', 'cache']);
  const turnFirstToken = histogram('turnflow_turn_first_token_seconds', 'Time from request to the first answer token.', ['tenant', 'cache']);
  const fallbacks = counter('turnflow_turn_fallbacks_total', 'Fallbacks taken by turns, by kind (done.fallbacks).', ['tenant', 'kind']);
  const denials = counter('turnflow_guardrail_denials_total', 'Turns the input guardrail denied.', ['tenant']);
  const reconciled = counter('turnflow_reconciled_turns_total', 'Turns whose intent detection was reconciled.', ['tenant']);
  const modelCalls = counter('turnflow_model_calls_total', 'Model calls by provider, step and outcome.', ['provider', 'step', 'outcome']);
  const modelFirstToken = histogram('turnflow_model_first_token_seconds', 'Model call start to first content token.', ['provider', 'step']);
  const modelDuration = histogram('turnflow_model_call_duration_seconds', 'Model call duration (to its end or cancellation).', ['provider', 'step', 'outcome']);
  const stepDuration = histogram('turnflow_step_duration_seconds', 'Turn step durations (done.timings.steps).', ['step']);
  const tokens = counter('turnflow_tokens_total', 'Billed tokens by provider and kind.', ['tenant', 'provider', 'kind']);
  const cost = counter('turnflow_cost_usd_total', 'What the model calls cost, USD.', ['tenant']);
  const listCost = counter('turnflow_list_cost_usd_total', 'The same tokens at the list prices of the models asked for, USD.', ['tenant']);
  const refusals = counter('turnflow_admission_refused_total', 'Turns refused before they started (429, 503), by the limit that refused them.', ['tenant', 'limit']);
  const feedback = counter('turnflow_feedback_total', 'Feedback posts on answers, by rating and what they did to the example store (added, updated, removed, none, not_analytics).', ['tenant', 'rating', 'example']);
  // Admission gauges, registered by the process that admits turns (the API) and read from the admission store
  // at scrape time: one read per scrape, shared by the four (a scrape collects every metric at once).
  const observeAdmission = (source: AdmissionGaugeSource) => {
    let reading: Promise<AdmissionFigures | null> | undefined;
    // A store that cannot be read leaves the gauges as they were (the scrape itself must not fail).
    const figures = () =>
      (reading ??= source
        .gauges()
        .catch(() => null)
        .finally(() => {
          reading = undefined;
        }));
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], set: (g: Gauge<L>, f: AdmissionFigures) => void) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const f = await figures();
          if (f) set(this, f);
        },
      });
    gauge('turnflow_turns_in_flight', 'Turns this API process admitted that have not ended (bounded by MAX_INFLIGHT_TURNS).', [], (g, f) => g.set(f.inFlight));
    gauge('turnflow_turns_running', 'Turns running in the whole deployment, over every API process.', [], (g, f) => g.set(f.running));
    gauge('turnflow_turn_capacity', "The deployment's bound on running turns: its live workers' WORKER_MAX_TURNS summed, capped by MAX_RUNNING_TURNS.", ['bound'], (g, f) => {
      g.reset();
      if (f.capacity !== null) g.set({ bound: 'deployment' }, f.capacity);
    });
    gauge('turnflow_budget_used', 'What the tenant used today (UTC) of its daily budgets: tokens (input + output) and cost_usd.', ['tenant', 'kind'], (g, f) => {
      g.reset();
      for (const b of f.budgets) {
        g.set({ tenant: b.tenant, kind: 'tokens' }, b.tokens);
        g.set({ tenant: b.tenant, kind: 'cost_usd' }, b.costUsd);
      }
    });
  };
  let dependencyCheck: (() => Promise<Record<string, string>>) | undefined;
  const observeDependencies = (check: () => Promise<Record<string, string>>) => {
    if (!dependencyCheck) {
      new Gauge({
        name: 'turnflow_dependency_up',
        help: 'Whether this process reaches a dependency now (1) or not (0), as /healthz probes it: temporal, appStore, events (Redis), tenantDb.',
        labelNames: ['dependency'],
        registers,
        async collect() {
          const states = await dependencyCheck!().catch(() => ({}) as Record<string, string>);
          this.reset();
          for (const [name, state] of Object.entries(states)) this.set({ dependency: name }, state === 'ok' ? 1 : 0);
        },
      });
    }
    dependencyCheck = check;
  };
  const httpRequests = counter('turnflow_http_requests_total', 'API requests by method, route pattern and status.', ['method', 'route', 'status']);
  const httpDuration = histogram('turnflow_http_request_duration_seconds', 'API request duration (an SSE stream: its whole life).', ['method', 'route']);

  const seconds = (ms: number) => Math.max(0, ms) / 1000;
  const add = (c: Counter<string>, labels: Record<string, string>, n: number | undefined) => {
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) c.inc(labels, n);
  };
  const addTokens = (tenant: string, provider: string, u: TurnResult['usage'] | undefined) => {
    if (!u) return;
    add(tokens, { tenant, provider, kind: 'input' }, u.inputTokens);
    add(tokens, { tenant, provider, kind: 'output' }, u.outputTokens);
    add(tokens, { tenant, provider, kind: 'cache_read' }, u.cacheReadTokens);
    add(tokens, { tenant, provider, kind: 'cache_write' }, u.cacheWriteTokens);
  };

  return {
    registry,
    contentType: registry.contentType,
    recordRefusal: (tenant, limit) => refusals.inc({ tenant, limit }),
    recordFeedback: (tenant, rating, example) => feedback.inc({ tenant, rating, example }),
    observeAdmission,
    observeDependencies,
    recordTurn(tenant, r) {
      if (opts.turnLog) logTurn(opts.turnLog, tenant, r);
      const cache = r.cache ?? 'none';
      turns.inc({ tenant, cache, intent: r.intent ?? 'unknown', outcome: turnOutcome(r) });
      if (r.timings) {
        turnDuration.observe({ tenant, cache }, seconds(r.timings.totalMs));
        if (typeof r.timings.ttftMs === 'number') turnFirstToken.observe({ tenant, cache }, seconds(r.timings.ttftMs));
        for (const [step, ms] of Object.entries(r.timings.steps ?? {})) {
          if (isDurationStep(step) && typeof ms === 'number') stepDuration.observe({ step }, seconds(ms));
        }
      }
      for (const kind of r.fallbacks ?? []) fallbacks.inc({ tenant, kind });
      if (r.error?.code === 'content_policy') denials.inc({ tenant });
      if (r.understanding?.reconciled) reconciled.inc({ tenant });
      if (r.calls) {
        for (const c of r.calls) {
          modelCalls.inc({ provider: c.provider, step: c.step, outcome: c.outcome });
          modelDuration.observe({ provider: c.provider, step: c.step, outcome: c.outcome }, seconds(c.ms));
          if (typeof c.ttftMs === 'number') modelFirstToken.observe({ provider: c.provider, step: c.step }, seconds(c.ttftMs));
          addTokens(tenant, c.provider, c.usage);
        }
      } else {
        // Results without per-call detail (older workers): the turn's tokens under its answer's provider.
        addTokens(tenant, r.provider ?? 'unknown', r.usage);
      }
      add(cost, { tenant }, r.costUsd);
      add(listCost, { tenant }, listCostOf(r));
    },
    httpMiddleware() {
      return (req, res, next) => {
        const started = process.hrtime.bigint();
        res.once('close', () => {
          // The matched route's pattern, never the raw URL: turn and chart ids would explode cardinality.
          const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
          const method = req.method;
          httpRequests.inc({ method, route, status: String(res.statusCode) });
          httpDuration.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
        });
        next();
      };
    },
    render: () => registry.metrics(),
  };
}

/** True when `authorization` carries `Bearer <token>` (constant-time compare); always true without a token. */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Serves `GET /metrics` on its own port (a standalone worker has no HTTP API); optional bearer token. */
export async function serveMetrics(
  metrics: Pick<Metrics, 'render' | 'contentType'>,
  opts: { port: number; host: string; token?: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'Only GET /metrics is served here' } }));
      return;
    }
    if (!metricsAuthorized(req.headers.authorization, opts.token)) {
      res
        .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="metrics"' })
        .end(JSON.stringify({ error: { code: 'unauthorized', message: 'Missing or wrong Authorization: Bearer <METRICS_TOKEN>' } }));
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'internal', message: 'Could not render metrics' } })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as import('node:net').AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
