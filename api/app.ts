import type { Queryable } from '../infra/db.ts';
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Admission } from '../activities/admission/admission.ts';
import type { Logger } from '../infra/logger.ts';
import type { TurnEventBus } from '../activities/turn-events/bus.ts';
import { probeAll } from '../infra/health.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import type { Embedder } from '../infra/llm/embeddings.ts';
import { metricsAuthorized, type Metrics } from '../infra/metrics.ts';
import { requireApiKey, type TenantKeyStore } from './auth.ts';
import { ApiError, errorHandler, notFound } from './errors.ts';
import { adminRoutes } from './admin.ts';
import type { CachedTurns } from './cached-turns.ts';
import type { ChartUrlSigner } from './chart-urls.ts';
import { chatPageRoutes, type ChatPageDeps } from './chat-page.ts';
import { chartRoutes, signedChartRoutes } from './charts.ts';
import { codecRoutes, type CodecRoutesDeps } from './codec.ts';
import { feedbackRoutes } from './feedback.ts';
import { knowledgeRoutes } from './knowledge.ts';
import { settingsRoutes } from './settings.ts';
import { statsRoutes } from './stats.ts';
import { createTurnStarter, turnRoutes, type TurnRoutesDeps } from './turns.ts';
import { chatCompletionCors, chatCompletionRoutes, OPENAI_PATHS, openAiErrorHandler } from './chat-completions.ts';

/** Body limit of POST /v1/chat/completions: a conversation's whole history comes with each request. */
export const CHAT_COMPLETION_BODY_LIMIT = '1mb';

/** What the HTTP app needs; built by the entrypoints (or tests). */
export interface AppDeps {
  temporal: Pick<Client, 'workflow'> & { connection: Pick<Client['connection'], 'workflowService'> };
  events: TurnEventBus;
  appDb: Queryable;
  /** The shared cache (tenant settings are read through it and deleted from it on change). */
  kv: KvCache;
  /** The deployment's embedder: with it, the API answers semantic-cache hits itself (no workflow before the answer). */
  embedder?: Embedder;
  embeddingTimeoutMs?: number;
  keys: TenantKeyStore;
  /** Signs the chart URLs the API hands out and checks them when a browser loads one (CHART_URL_SECRET). */
  chartUrls: ChartUrlSigner;
  log: Logger;
  /** Ping of the event bus backend (Redis), for /healthz. */
  pingEvents?: () => Promise<unknown>;
  /** Body size limit (contract: 413 beyond it). */
  bodyLimit?: string;
  sseIdleMs?: number;
  taskQueue?: string;
  /** Start turns with `requestEagerStart` (the client is on a worker's connection in this process: `npm start`). */
  eagerStart?: boolean;
  /** The process's metrics: HTTP requests are counted and GET /metrics serves the registry (absent: no /metrics). */
  metrics?: Pick<Metrics, 'httpMiddleware' | 'render' | 'contentType' | 'recordTurn' | 'recordRefusal'> & Partial<Pick<Metrics, 'observeDependencies' | 'recordFeedback'>>;
  /** When set, GET /metrics requires `Authorization: Bearer <token>` (METRICS_TOKEN). */
  metricsToken?: string;
  /** Last day of a template's demo orders for tenants created through the admin API (SEED_ANCHOR_DATE); default today. */
  seedAnchorDate?: string;
  /** Admission control (limits and this process's bound); absent: every turn is admitted (tests of other things). */
  admission?: Admission;
  /** Stores and records the turns the API answers from a cache (the entrypoints flush it on shutdown). */
  cachedTurns?: CachedTurns;
  /** The codec endpoint (POST /v1/codec/{encode,decode}, and the Web UI's); absent: not served. */
  codec?: Omit<CodecRoutesDeps, 'keys'>;
  /** Tenant analytics data: a corrected SQL sent as feedback runs there (read-only, as the tenant's reader role) before it is kept; absent: corrections get a 503. */
  tenantDb?: Queryable & Pick<pg.Pool, 'connect'>;
  /** The SQL agent's bounds, which a corrected SQL is held to (SQL_STATEMENT_TIMEOUT_MS, SQL_MAX_ROWS); default 2000 ms and 1000 rows. */
  sqlLimits?: { statementTimeoutMs: number; maxRows: number };
  /** Browser origins whose scripts may call POST /v1/chat/completions and GET /v1/models (CHAT_CORS_ORIGINS); absent or empty: none. */
  chatCorsOrigins?: readonly string[];
  /** The API's public origin (PUBLIC_URL): absolute links start with it; absent: the request's own scheme and host. */
  publicUrl?: string;
  /** What GET /v1/admin/runtime tells an operator (or the benchmark) about this deployment. */
  runtime?: { offlineModelUrl?: string; deployment: 'single-process' | 'split'; services?: { redis: boolean; postgres: boolean } };
  /** The chat page's Temporal Web UI link (TEMPORAL_UI_URL, or `npm start`'s embedded UI); absent: the page shows no link. */
  temporalUi?: ChatPageDeps['temporalUi'];
}

/** The Express app: auth, validation, turn routes, one error handler. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    res.locals.receivedAt = performance.now();
    // A caller's own id is kept only when it looks like one: it goes on every log line of the request.
    const given = req.get('x-request-id');
    const requestId = given && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomUUID();
    res.set('X-Request-Id', requestId);
    req.log = deps.log.child({ requestId });
    next();
  });
  if (deps.metrics) app.use(deps.metrics.httpMiddleware());

  // Each dependency's state, probed with a 2 s bound: for /healthz, and for /metrics' turnflow_dependency_up.
  const checkDependencies = () =>
    probeAll({
      temporal: () => deps.temporal.connection.workflowService.getSystemInfo({}),
      appStore: () => deps.appDb.query('SELECT 1'),
      ...(deps.pingEvents ? { events: deps.pingEvents } : {}),
    });
  deps.metrics?.observeDependencies?.(checkDependencies);
  app.get('/healthz', async (_req, res) => {
    const checks = await checkDependencies();
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ ok, checks });
  });

  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (req, res) => {
      if (!metricsAuthorized(req.get('authorization'), deps.metricsToken)) {
        throw new ApiError(401, 'unauthorized', 'Missing or wrong Authorization: Bearer <METRICS_TOKEN>', undefined, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
      }
      res.set('Content-Type', metrics.contentType).send(await metrics.render());
    });
  }

  // Browser chat front ends of the listed origins (CHAT_CORS_ORIGINS): their preflight carries no key.
  if (deps.chatCorsOrigins?.length) app.use(OPENAI_PATHS, chatCompletionCors(deps.chatCorsOrigins));
  // The chat page is public (it signs in with a tenant key of its own, sent as a Bearer header by its script).
  app.use(chatPageRoutes({ temporalUi: deps.temporalUi }));
  // Before the API-key middleware: the codec endpoint authenticates its own way (admin key, or the Web UI's token).
  if (deps.codec) app.use(codecRoutes({ ...deps.codec, keys: deps.keys }));
  // A signed chart URL is its own credential (a browser's <img> sends no API key): checked before the key.
  app.use(signedChartRoutes({ appDb: deps.appDb, chartUrls: deps.chartUrls }));
  app.use('/v1', requireApiKey(deps.keys));
  // Only JSON is parsed; other content types reach the route unparsed and get a 415 there.
  // Documents may be larger than a chat message; their parser runs first (a parsed body is not parsed again).
  app.use('/v1/knowledge', express.json({ limit: '256kb', type: 'application/json' }));
  // A chat front end sends the whole conversation every time (only its last user message is read).
  app.use('/v1/chat/completions', express.json({ limit: CHAT_COMPLETION_BODY_LIMIT, type: 'application/json' }));
  app.use(express.json({ limit: deps.bodyLimit ?? '32kb', type: 'application/json' }));
  const turnDeps: TurnRoutesDeps = { temporal: deps.temporal, events: deps.events, appDb: deps.appDb, sseIdleMs: deps.sseIdleMs, taskQueue: deps.taskQueue, eagerStart: deps.eagerStart, kv: deps.kv, metrics: deps.metrics, embedder: deps.embedder, embeddingTimeoutMs: deps.embeddingTimeoutMs, cachedTurns: deps.cachedTurns, admission: deps.admission, chartUrls: deps.chartUrls };
  // One turn machinery for both ways in: the product's own route and the OpenAI-compatible one.
  const turns = createTurnStarter(turnDeps);
  app.use(turnRoutes(turnDeps, turns));
  app.use(chatCompletionRoutes({ events: deps.events, chartUrls: deps.chartUrls, turns, sseIdleMs: deps.sseIdleMs, publicUrl: deps.publicUrl }));
  app.use(feedbackRoutes({ appDb: deps.appDb, tenantDb: deps.tenantDb, kv: deps.kv, embedder: deps.embedder, embeddingTimeoutMs: deps.embeddingTimeoutMs, sql: deps.sqlLimits ?? { statementTimeoutMs: 2000, maxRows: 1000 }, temporal: deps.temporal, metrics: deps.metrics }));
  app.use(settingsRoutes({ appDb: deps.appDb, kv: deps.kv }));
  app.use(adminRoutes({ appDb: deps.appDb, kv: deps.kv, temporal: deps.temporal, taskQueue: deps.taskQueue, anchorDate: deps.seedAnchorDate, runtime: deps.runtime }));
  app.use(knowledgeRoutes({ appDb: deps.appDb, kv: deps.kv }));
  app.use(chartRoutes({ appDb: deps.appDb }));
  app.use(statsRoutes({ appDb: deps.appDb, kv: deps.kv, admission: deps.admission }));
  app.use(notFound);
  // The OpenAI-compatible paths answer every error (a bad key, a refusal, an unknown method) in OpenAI's shape.
  app.use(OPENAI_PATHS, openAiErrorHandler(deps.log));
  app.use(errorHandler(deps.log));
  return app;
}
