// The offline model: a local HTTP server speaking the Anthropic Messages and OpenAI Chat Completions
// wire formats, so the real SDKs run unchanged when no provider key is configured. Its answers come from
// a deterministic rule engine (rules.ts), not an LLM; every response says so (`model: offline-model`,
// header `x-offline-model: true`). It also serves OpenAI's embeddings endpoint from a hashing embedder
// (infra/llm/local-embedder.ts), likewise no model. Latency, stalls and errors are imitated per provider from a seeded
// PRNG, so load tests and fault-injection tests are reproducible.
// Its parts: profiles.ts (latency and faults), plan.ts (what a request will do), anthropic.ts and openai.ts
// (the wire formats), requests.ts, usage.ts (prompt-cache imitation), errors.ts, text.ts, http-io.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OFFLINE_MODEL_NAME } from '../../llm/pricing.ts';
import { mulberry32 } from '../../prng.ts';
import { anthropicMessages } from './anthropic.ts';
import { anthropicError, openaiError } from './errors.ts';
import { readJson, sendJson } from './http-io.ts';
import { openaiChat, openaiEmbeddings } from './openai.ts';
import { DEFAULT_PROFILES, issuesText, profileSchema, profilesSchema, type OfflineProvider, type ProviderProfile } from './profiles.ts';
import type { ProductRules } from './rules.ts';
import type { Counters, ModelState, ReceivedRequest } from './state.ts';
import { PrefixCache } from './usage.ts';

export { DEFAULT_PROFILES, parseProfilesEnv, ZERO_LATENCY_PROFILE, type OfflineProvider, type ProviderProfile } from './profiles.ts';
export { OFFLINE_MODEL_NAME };
export type { ReceivedRequest };

/** Options of `startOfflineModel`. */
export interface OfflineModelOptions {
  /** The product's understanding rules and prompt readers it answers with (workers/offline-rules.ts). */
  product: ProductRules;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** Overrides of DEFAULT_PROFILES, per provider. */
  profiles?: Partial<Record<OfflineProvider, Partial<ProviderProfile>>>;
  /** Seed of the PRNG behind errors, stalls, jitter and the latency tails; default 1. */
  seed?: number;
  logger?: { info: (obj: object, msg?: string) => void; warn: (obj: object, msg?: string) => void };
}

/** A running offline model. */
export interface OfflineModel {
  /** E.g. `http://127.0.0.1:40123`; SDK base URLs are `${url}/anthropic` and `${url}/openai/v1`. */
  url: string;
  port: number;
  profiles(): Record<OfflineProvider, ProviderProfile>;
  /** Changes a profile for requests that start from now on (Infinity tokensPerSec is stored as 0: same meaning). */
  setProfile(provider: OfflineProvider, p: Partial<ProviderProfile>): void;
  /**
   * `requests` by provider (`anthropic`, `openai` = chat; `embeddings`), `errors` by `provider:status`,
   * `aborted` = responses the client hung up on (`abortedByProvider`: chat responses only, per provider),
   * `models` = chat requests by the `model` they asked for.
   */
  stats(): OfflineModelStats;
  /** Zeroes every counter of `stats()` and forgets `requests()` (also `POST /_offline/reset-stats`); profiles and prompt caches stay. */
  resetStats(): void;
  /** The latest chat requests (at most 50), oldest first, as received: provider, model, system text, messages (also `GET /_offline/requests`). */
  requests(): ReceivedRequest[];
  /** Stops listening and ends open connections, in-flight streams included. */
  close(): Promise<void>;
}

/** What `OfflineModel.stats()` reports: a copy of the counters. */
export type OfflineModelStats = Counters;

/** The server itself. */
export async function startOfflineModel(opts: OfflineModelOptions): Promise<OfflineModel> {
  const host = opts.host ?? '127.0.0.1';
  const profiles: Record<OfflineProvider, ProviderProfile> = {
    anthropic: { ...DEFAULT_PROFILES.anthropic },
    openai: { ...DEFAULT_PROFILES.openai },
  };
  const caches: Record<OfflineProvider, PrefixCache> = { anthropic: new PrefixCache(), openai: new PrefixCache() };
  const counters: Counters = { requests: {}, errors: {}, aborted: 0, abortedByProvider: { anthropic: 0, openai: 0 }, models: {} };
  const resetStats = () => {
    counters.requests = {};
    counters.errors = {};
    counters.aborted = 0;
    counters.abortedByProvider = { anthropic: 0, openai: 0 };
    counters.models = {};
    state.recent.length = 0;
  };
  let ids = 0;
  const state: ModelState = { product: opts.product, random: mulberry32(opts.seed ?? 1), profiles, caches, counters, recent: [], nextId: () => ++ids };
  const requests = () => state.recent.map((r) => ({ ...r, messages: r.messages.map((m) => ({ ...m })) }));

  const setProfile = (provider: OfflineProvider, p: Partial<ProviderProfile>) => {
    const patch = { ...p };
    if (patch.tokensPerSec === Infinity) patch.tokensPerSec = 0;
    const parsed = profileSchema.safeParse(patch);
    if (!parsed.success) throw new Error(`invalid ${provider} profile: ${issuesText(parsed.error)}`);
    profiles[provider] = { ...profiles[provider], ...parsed.data };
  };
  for (const provider of ['anthropic', 'openai'] as const) {
    const p = opts.profiles?.[provider];
    if (p) setProfile(provider, p);
  }
  const snapshot = () => ({ anthropic: { ...profiles.anthropic }, openai: { ...profiles.openai } });

  const server = http.createServer((req, res) => {
    res.setHeader('x-offline-model', 'true');
    const aborted = new AbortController();
    const path = (req.url ?? '/').split('?')[0];
    const chat: OfflineProvider | null =
      path === '/anthropic/v1/messages' ? 'anthropic'
      : path === '/openai/v1/chat/completions' ? 'openai'
      : null;
    // A response closed before we ended it means the client hung up: stop every timer of this request.
    // (The request's own 'close' fires as soon as its body has been read, so it cannot tell.)
    res.on('close', () => {
      if (res.writableEnded) return;
      aborted.abort();
      counters.aborted++;
      if (chat) counters.abortedByProvider[chat]++;
    });
    handle(req, res, aborted.signal).catch((err: unknown) => {
      if (aborted.signal.aborted) return;
      opts.logger?.warn({ err: (err as Error).message, url: req.url }, 'offline model: request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'offline model internal error', type: 'server_error' } });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const provider: OfflineProvider | null =
      path?.startsWith('/anthropic/') ? 'anthropic'
      : path?.startsWith('/openai/') ? 'openai'
      : null;

    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { ok: true, offline: true });
    if (path === '/_offline/profiles') {
      if (req.method === 'GET') return sendJson(res, 200, snapshot());
      if (req.method === 'PUT') {
        const body = await readJson(req);
        const parsed = profilesSchema.safeParse(body.ok ? body.value : undefined);
        if (!parsed.success) return sendJson(res, 400, { error: body.ok ? issuesText(parsed.error) : body.message });
        for (const p of ['anthropic', 'openai'] as const) if (parsed.data[p]) setProfile(p, parsed.data[p]);
        opts.logger?.info({ profiles: snapshot() }, 'offline model profiles changed');
        return sendJson(res, 200, snapshot());
      }
    }
    if (path === '/_offline/stats' && req.method === 'GET') return sendJson(res, 200, stats());
    if (path === '/_offline/requests' && req.method === 'GET') return sendJson(res, 200, { requests: requests() });
    if (path === '/_offline/reset-stats' && req.method === 'POST') {
      resetStats();
      return sendJson(res, 200, stats());
    }

    if (provider === 'anthropic' && path === '/anthropic/v1/messages' && req.method === 'POST') return anthropicMessages(state, req, res, signal);
    if (provider === 'openai' && path === '/openai/v1/chat/completions' && req.method === 'POST') return openaiChat(state, req, res, signal);
    if (provider === 'openai' && path === '/openai/v1/embeddings' && req.method === 'POST') return openaiEmbeddings(state, req, res);
    const message = `offline model: no route ${req.method} ${path}`;
    if (provider === 'anthropic') return sendJson(res, 404, anthropicError(404, message));
    if (provider === 'openai') return sendJson(res, 404, openaiError(404, message));
    return sendJson(res, 404, { error: message });
  }

  function stats(): OfflineModelStats {
    return {
      requests: { ...counters.requests },
      errors: { ...counters.errors },
      aborted: counters.aborted,
      abortedByProvider: { ...counters.abortedByProvider },
      models: { ...counters.models },
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.logger?.info(
    { url, seed: opts.seed ?? 1, profiles: snapshot() },
    'offline model started: a deterministic rule engine speaking the Anthropic and OpenAI wire formats, NOT an LLM',
  );

  return {
    url,
    port,
    profiles: snapshot,
    setProfile,
    stats,
    resetStats,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() alone waits for keep-alive and streaming connections; end them now.
        server.closeAllConnections();
      }),
  };
}
