import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parsePayloadKeys, type PayloadKey } from './payload-codec.ts';

/** Where the repository lives; embedded state defaults to `<repo>/.data`. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.string().url().optional());
const port = (fallback: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));

const schema = z.object({
  /** `production` refuses the dev keys; anything else is development. */
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  /** API port (contract: default 3000). */
  PORT: port(3000),
  /** API bind address. */
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  /** Temporal frontend `host:port`; unset: start the `temporal` CLI dev server. */
  TEMPORAL_ADDRESS: optionalString,
  /** Temporal namespace. */
  TEMPORAL_NAMESPACE: z.preprocess(emptyToUndefined, z.string().default('default')),
  /** Task queue of chat-turn workflows and activities (separate queues keep environments apart on one cluster). */
  TEMPORAL_TASK_QUEUE: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('chat-turns')),
  /** gRPC port of the embedded dev server. */
  TEMPORAL_DEV_PORT: port(7233),
  /** Web UI port of the embedded dev server. */
  TEMPORAL_UI_PORT: port(8233),
  /** Base URL of the Temporal Web UI that shows this deployment's turns: the chat page links each turn there. Unset: `npm start`'s embedded UI, no link elsewhere. */
  TEMPORAL_UI_URL: z.preprocess(emptyToUndefined, z.string().url().regex(/^https?:\/\//, 'expected an http(s) URL').optional()),
  /** Path of an existing `temporal` CLI binary; skips the lookup and the build. */
  TEMPORAL_CLI: optionalString,
  /** Where a built `temporal` CLI is cached (default `<repo>/.tools`). */
  TEMPORAL_CLI_CACHE_DIR: optionalString,
  /** App store (turns, cache vectors, KB): Postgres with pgvector; unset: embedded PGlite. */
  DATABASE_URL: optionalUrl,
  /** Tenant analytics data; unset: the app store. Seeded when empty. */
  TENANT_DATABASE_URL: optionalUrl,
  /** Exact cache and turn event streams; unset: in-process (API and worker in one process). */
  REDIS_URL: optionalUrl,
  /** Anthropic API key; with neither provider key set, the offline model answers. */
  ANTHROPIC_API_KEY: optionalString,
  /** Anthropic-compatible endpoint. */
  ANTHROPIC_BASE_URL: optionalUrl,
  /** Anthropic fast-tier model: capture, detect, simple answers. */
  ANTHROPIC_FAST_MODEL: z.preprocess(emptyToUndefined, z.string().default('claude-haiku-4-5')),
  /** Anthropic strong-tier model: complex and comprehensive answers. */
  ANTHROPIC_STRONG_MODEL: z.preprocess(emptyToUndefined, z.string().default('claude-sonnet-4-6')),
  /** OpenAI API key. */
  OPENAI_API_KEY: optionalString,
  /** Any OpenAI-compatible server. */
  OPENAI_BASE_URL: optionalUrl,
  /** OpenAI fast-tier model. */
  OPENAI_FAST_MODEL: z.preprocess(emptyToUndefined, z.string().default('gpt-4.1-mini')),
  /** OpenAI strong-tier model. */
  OPENAI_STRONG_MODEL: z.preprocess(emptyToUndefined, z.string().default('gpt-4.1')),
  /** OpenAI embeddings model (called with 256 dimensions); without OPENAI_API_KEY the local embedder is used. */
  OPENAI_EMBEDDING_MODEL: z.preprocess(emptyToUndefined, z.string().default('text-embedding-3-small')),
  /**
   * Model prices over the built-in list, USD per million tokens, as JSON:
   * `{"my-model":{"input":0.5,"output":1.5,"cacheRead":0.05,"cacheWrite":0.6}}` (cacheRead/cacheWrite default 0.1× and 1.25× input).
   */
  MODEL_PRICES: z.preprocess(
    (v) => {
      const s = emptyToUndefined(v);
      if (s === undefined) return {};
      try {
        return JSON.parse(String(s));
      } catch {
        return 'not JSON';
      }
    },
    z.record(
      z.string().min(1),
      z.object({ input: z.number().min(0), output: z.number().min(0), cacheRead: z.number().min(0).optional(), cacheWrite: z.number().min(0).optional() }).strict(),
      { error: 'expected JSON like {"model":{"input":1,"output":5}}' },
    ),
  ),
  /** Provider of the capture and detect calls (fast tier); default: anthropic when it has a key (or offline), else openai. */
  UNDERSTANDING_PROVIDER: z.preprocess(emptyToUndefined, z.enum(['anthropic', 'openai']).optional()),
  /** A capture or detect model call slower than this is abandoned for the rules. */
  UNDERSTANDING_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(50).max(30_000).default(2500)),
  /** Bound of each gathered part (history, profile, schema summary) before its fallback value is used. */
  GATHER_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(50).max(30_000).default(1500)),
  /** statement_timeout of generated SQL (the SQL agent). */
  SQL_STATEMENT_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(100).max(60_000).default(2000)),
  /** Row cap of generated SQL. */
  SQL_MAX_ROWS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100_000).default(1000)),
  /** Model attempts of the SQL agent: the first try plus self-corrections. */
  SQL_MAX_ATTEMPTS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(10).default(3)),
  /** Bound of the question's embedding call. */
  EMBEDDING_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(50).max(30_000).default(2000)),
  /** Offline model latency/fault profiles as JSON (see README). */
  OFFLINE_MODEL_PROFILES: optionalString,
  /** A running offline model to use (`npm run offline-model`) instead of starting one in this process: one shared by split workers and the benchmark. */
  OFFLINE_MODEL_URL: optionalUrl,
  /** Port of the offline model server (0: any free port). */
  OFFLINE_MODEL_PORT: port(0),
  /** Embedded state: PGlite files, the dev server's database. */
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default(path.join(REPO_ROOT, '.data'))),
  /** Anchor day of the demo data (YYYY-MM-DD); default: the day the store is seeded. */
  SEED_ANCHOR_DATE: z.preprocess(emptyToUndefined, z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional()),
  /** pino level. */
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  /** `auto`: human-readable lines on a terminal, JSON (one object per line) everywhere else; or force `json` / `pretty`. */
  LOG_FORMAT: z.preprocess(emptyToUndefined, z.enum(['auto', 'json', 'pretty']).default('auto')),
  /** Max concurrent activities per worker. */
  WORKER_MAX_ACTIVITIES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(200)),
  /** Turn event streams expire this long after their last event. */
  EVENT_STREAM_TTL_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(60).default(86400)),
  /** Sliding window of past turns sent to the model. */
  HISTORY_WINDOW_TURNS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(50).default(10)),
  /** …and at most this many (approximate) tokens of it; the oldest turns go first. */
  HISTORY_WINDOW_TOKENS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(200_000).default(3000)),
  /**
   * Turns one API process may have running (admitted, not ended); past it a new turn gets 503 at once. 0: no
   * bound; unset: 8 per CPU core (16 on the 2-core machines the benchmark runs on: README, "Performance").
   */
  MAX_INFLIGHT_TURNS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(100_000).optional()),
  /**
   * Turns one worker serves at once, advertised to the API (a heartbeat in the admission store): the
   * deployment's bound is the sum over its live workers, past which a new turn gets 503 at once. 0: no bound.
   */
  WORKER_MAX_TURNS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(100_000).default(64)),
  /** A fixed cap on the turns the whole deployment may have running, over the workers' advertised sum. 0: none. */
  MAX_RUNNING_TURNS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(1_000_000).default(0)),
  /** Turns the API answers from a cache are recorded in Temporal in batches: one workflow per tenant and cache per this window. */
  HIT_RECORD_WINDOW_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).max(60_000).default(1000)),
  /** Bound of opening a connection to the tenant analytics database: a database that does not answer fails the data step, not the turn. */
  TENANT_DB_CONNECT_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(100).max(60_000).default(2000)),
  /** Pool size of each Postgres pool. */
  PG_POOL_MAX: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100).default(10)),
  /** Port of a standalone worker's `GET /metrics` (on HOST; 0: off). The API serves /metrics on its own port. */
  METRICS_PORT: port(9464),
  /** When set, /metrics requires `Authorization: Bearer <token>`; unset: open. */
  METRICS_TOKEN: optionalString,
  /**
   * Payload encryption keys, `id:base64-of-32-bytes` comma-separated: the first encrypts, all decrypt (rotation:
   * put a new key first, keep the old ones while histories encrypted with them exist). Unset outside production:
   * a development key kept in `DATA_DIR/payload-keys`. Required in production.
   */
  PAYLOAD_KEYS: z.preprocess(emptyToUndefined, z.string().optional()).transform((v, ctx): PayloadKey[] | undefined => {
    if (v === undefined) return undefined;
    try {
      return parsePayloadKeys(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /**
   * Secret path segment of the codec endpoint the Temporal Web UI calls (it cannot send a Bearer key); at least 32
   * characters. Unset: derived from the first payload key (a new first key changes it).
   */
  CODEC_UI_TOKEN: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9_-]{32,256}$/, 'expected 32-256 of [A-Za-z0-9_-]').optional()),
  /**
   * Origins (comma-separated) allowed to call the codec endpoint from a browser: the Temporal Web UI's. Unset:
   * the embedded Web UI (`http://127.0.0.1:<TEMPORAL_UI_PORT>`, `http://localhost:<…>`) outside production, none in it
   * (the Web UI's token path is then off). `none` turns it off.
   */
  CODEC_CORS_ORIGINS: z.preprocess(emptyToUndefined, z.string().optional()),
  /** Browser origins whose scripts may call the OpenAI-compatible endpoint (a chat front end served elsewhere), comma-separated; unset: none. */
  CHAT_CORS_ORIGINS: z.preprocess(emptyToUndefined, z.string().optional()),
  /**
   * Key of the chart URLs' signatures (HMAC-SHA256), at least 32 characters; every API replica needs the same one.
   * Required with NODE_ENV=production; otherwise unset: one is made and kept in DATA_DIR/chart-url-secret (0600).
   */
  CHART_URL_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  /** How long a signed chart URL (in `chart` events, `done.chart`, GET /v1/turns/:id) stays valid. */
  CHART_URL_TTL_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(60).max(7 * 86_400).default(3600)),
  /** OTLP/HTTP endpoint traces are sent to (`<endpoint>/v1/traces`), e.g. `http://127.0.0.1:4318`; unset: no tracing (README, "Traces"). */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** The whole traces URL, over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  /** `service.name` of this process's spans; default `turnflow` (npm start), `turnflow-api`, `turnflow-worker`. */
  OTEL_SERVICE_NAME: optionalString,
  /** `true`: no tracing, even with an endpoint set. */
  OTEL_SDK_DISABLED: z.preprocess(emptyToUndefined, z.enum(['true', 'false']).default('false')).transform((v) => v === 'true'),
  /**
   * The API's public origin, e.g. `https://chat.example.com` behind a TLS proxy: absolute links the API hands out
   * (a chat completion's chart image) start with it. Unset: the scheme and host the request came to.
   */
  PUBLIC_URL: optionalUrl,
});

export type Config = Readonly<Omit<z.infer<typeof schema>, 'MAX_INFLIGHT_TURNS' | 'CODEC_CORS_ORIGINS' | 'CHAT_CORS_ORIGINS'>> & {
  readonly MAX_INFLIGHT_TURNS: number;
  /** Browser origins allowed to call the codec endpoint (empty: none; the Web UI path is then off). */
  readonly CODEC_CORS_ORIGINS: readonly string[];
  /** Browser origins allowed to call the OpenAI-compatible endpoint (empty: none). */
  readonly CHAT_CORS_ORIGINS: readonly string[];
  readonly offline: boolean;
  readonly embeddedTemporal: boolean;
};

/** Error for a bad setting; its message names the variable. */
export class ConfigError extends Error {
  constructor(message: string, readonly issues: string[]) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; entrypoints pass the frozen result down. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${issues.join('; ')}`, issues);
  }
  const c = parsed.data;
  if (c.NODE_ENV === 'production' && !c.PAYLOAD_KEYS) {
    const issue = 'PAYLOAD_KEYS: required in production (payloads are encrypted in Temporal history); set e.g. PAYLOAD_KEYS="k1:$(openssl rand -base64 32)" and give every API and worker process the same value';
    throw new ConfigError(`Invalid configuration: ${issue}`, [issue]);
  }
  const origins = parseOrigins(c.CODEC_CORS_ORIGINS);
  if (typeof origins === 'string') throw new ConfigError(`Invalid configuration: CODEC_CORS_ORIGINS: ${origins}`, [`CODEC_CORS_ORIGINS: ${origins}`]);
  const chatOrigins = parseOrigins(c.CHAT_CORS_ORIGINS);
  if (typeof chatOrigins === 'string') throw new ConfigError(`Invalid configuration: CHAT_CORS_ORIGINS: ${chatOrigins}`, [`CHAT_CORS_ORIGINS: ${chatOrigins}`]);
  return Object.freeze({
    ...c,
    CODEC_CORS_ORIGINS:
      origins ?? (c.NODE_ENV === 'production' ? [] : [`http://127.0.0.1:${c.TEMPORAL_UI_PORT}`, `http://localhost:${c.TEMPORAL_UI_PORT}`]),
    CHAT_CORS_ORIGINS: chatOrigins ?? [],
    DATA_DIR: path.resolve(c.DATA_DIR),
    MAX_INFLIGHT_TURNS: c.MAX_INFLIGHT_TURNS ?? 8 * availableParallelism(),
    offline: !c.ANTHROPIC_API_KEY && !c.OPENAI_API_KEY,
    embeddedTemporal: !c.TEMPORAL_ADDRESS,
  });
}

/** `a,b` origins, `none` for an empty list, undefined when unset; a message when one is not an origin. */
function parseOrigins(value: string | undefined): string[] | undefined | string {
  if (value === undefined) return undefined;
  if (value.trim() === 'none') return [];
  const origins: string[] = [];
  for (const raw of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return `"${raw}" is not an origin like https://temporal.example.com`;
    }
    if (!/^https?:$/.test(url.protocol) || url.origin !== raw.replace(/\/+$/, '')) return `"${raw}" is not an origin like https://temporal.example.com (scheme, host and port only)`;
    origins.push(url.origin);
  }
  return origins;
}
