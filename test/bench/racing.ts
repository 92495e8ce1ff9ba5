// `npm run bench:racing`: how the answer's race compares, on the same offline-model latency profile
// (lognormal first tokens with a slow tail, a slower second provider, occasional stalls and errors), with
// each single provider and with the two gateway strategies it replaces:
//   - LiteLLM-style: race every provider at once, the first HTTP response wins, no hedge, no failover;
//   - Portkey-style: one provider, retried with exponential backoff without jitter, then the next;
//   - turnflow: the product's own race (activities/generate-answer/race.ts), hedged (auto) or all at once,
//     winning on the first content token, with stall failover.
// Every strategy goes through the real SDKs to the offline model on loopback; calls of all strategies are
// interleaved so machine noise hits them alike. Figures: medians over runs of each run's percentiles.
//   npm run bench:racing -- [--calls 150] [--runs 3] [--concurrency 12] [--json FILE]
// (`npm run bench` runs a smaller version of it for its racing figures.)
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createProviderHealth, type ProviderHealth } from '../../activities/generate-answer/provider-health.ts';
import { raceProviders, RaceError, type RaceCall, type RaceCandidate } from '../../activities/generate-answer/race.ts';
import { createAnthropicProvider } from '../../infra/llm/anthropic-provider.ts';
import { createOpenAIProvider } from '../../infra/llm/openai-provider.ts';
import { createPriceTable } from '../../infra/llm/pricing.ts';
import type { ChatProvider, ProviderName } from '../../infra/llm/provider.ts';
import { startOfflineModel, type ProviderProfile } from '../../infra/dev/offline-model/server.ts';
import { productRules } from '../../workers/offline-rules.ts';

/** The stated profile: what hosted APIs feel like on a busy day. */
export const RACING_PROFILE: Record<ProviderName, Partial<ProviderProfile>> = {
  anthropic: { ttftMs: 450, ttftSigma: 0.35, slowRate: 0.08, slowFactor: 4, tokensPerSec: 90, tpsSigma: 0.3, headersMs: 40, jitterMs: 0, stallRate: 0.03, stallMs: 4000, stallAfterTokens: 6, errorRate: 0.02, errorStatus: 529 },
  openai: { ttftMs: 550, ttftSigma: 0.35, slowRate: 0.08, slowFactor: 4, tokensPerSec: 80, tpsSigma: 0.3, headersMs: 30, jitterMs: 0, stallRate: 0.03, stallMs: 4000, stallAfterTokens: 6, errorRate: 0.02, errorStatus: 503 },
};

const STALL_TIMEOUT_MS = 1000;
const MODELS = { anthropic: { fast: 'claude-haiku-4-5', strong: 'claude-sonnet-4-6' }, openai: { fast: 'gpt-4.1-mini', strong: 'gpt-4.1' } };
const REQUEST = {
  system: 'You are the shop assistant of the e-commerce tenant "acme".',
  messages: [{ role: 'user' as const, content: 'Hello! What can you do?' }],
  maxTokens: 500,
};
const prices = createPriceTable();

interface Sample {
  ttftMs: number | null;
  totalMs: number;
  failed: boolean;
  /** Provider calls made for this answer, and the list cost of the ones that did not answer. */
  calls: number;
  loserUsd: number;
  loserTokens: number;
}

type Strategy = (i: number) => Promise<Sample>;

function quantile(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const median = (xs: (number | null)[]) => quantile(xs.filter((x): x is number => x !== null), 0.5);

/** The racing strategies, by name. */
export const RACING_STRATEGIES = ['anthropic only', 'openai only', 'litellm-style', 'portkey-style', 'turnflow hedged (auto)', 'hedged at p60', 'hedged at p50', 'turnflow race at once'] as const;
export type RacingStrategy = (typeof RACING_STRATEGIES)[number];

/** Runs the strategies on the racing profile (own offline model on loopback) and returns a row per strategy. */
export async function runRacing(opts: { calls: number; runs: number; concurrency: number; strategies?: readonly RacingStrategy[]; progress?: (line: string) => void }) {
  const CALLS = opts.calls;
  const RUNS = opts.runs;
  const CONCURRENCY = opts.concurrency;
  const progress = opts.progress ?? (() => {});
  const offline = await startOfflineModel({ product: productRules,  profiles: RACING_PROFILE, seed: 7 });
  const providers: Record<ProviderName, ChatProvider> = {
    anthropic: createAnthropicProvider({ apiKey: 'offline', baseURL: `${offline.url}/anthropic`, models: MODELS.anthropic }),
    openai: createOpenAIProvider({ apiKey: 'offline', baseURL: `${offline.url}/openai/v1`, models: MODELS.openai }),
  };
  const anthropic = new Anthropic({ apiKey: 'offline', baseURL: `${offline.url}/anthropic`, maxRetries: 0 });
  const openai = new OpenAI({ apiKey: 'offline', baseURL: `${offline.url}/openai/v1`, maxRetries: 0 });
  const candidates: RaceCandidate[] = (['anthropic', 'openai'] as const).map((name) => ({ name, provider: providers[name], model: MODELS[name].fast }));

  const loserCost = (calls: RaceCall[]) => {
    const losers = calls.filter((c) => c.outcome !== 'won' && c.outcome !== 'continuation');
    return {
      loserUsd: losers.reduce((s, c) => s + prices.costUsd(c.model, c.usage), 0),
      loserTokens: losers.reduce((s, c) => s + c.usage.inputTokens + c.usage.outputTokens + c.usage.cacheReadTokens + c.usage.cacheWriteTokens, 0),
    };
  };

  /** The product's race, with the health a worker keeps. */
  const turnflow = (health: ProviderHealth, hedge: number | 'auto'): Strategy => async () => {
    const t0 = performance.now();
    let first: number | null = null;
    const order = health.order(['anthropic', 'openai']);
    try {
      const r = await raceProviders({
        candidates: order.map((n) => candidates.find((c) => c.name === n)!),
        hedgeDelayMs: health.hedgeDelay(order[0]!, hedge),
        stallTimeoutMs: STALL_TIMEOUT_MS,
        request: REQUEST,
        signal: new AbortController().signal,
        onToken: () => (first ??= performance.now() - t0),
      });
      health.learn(r.calls);
      return { ttftMs: first, totalMs: performance.now() - t0, failed: false, calls: r.calls.length, ...loserCost(r.calls) };
    } catch (err) {
      const calls = err instanceof RaceError ? err.calls : [];
      health.learn(calls);
      return { ttftMs: first, totalMs: performance.now() - t0, failed: true, calls: calls.length, ...loserCost(calls) };
    }
  };

  /** One provider, no race (what a turn does with one configured provider). */
  const single = (name: ProviderName): Strategy => async () => {
    const t0 = performance.now();
    let first: number | null = null;
    try {
      await providers[name].stream({ ...REQUEST, model: MODELS[name].fast, signal: new AbortController().signal, onToken: () => (first ??= performance.now() - t0) });
      return { ttftMs: first, totalMs: performance.now() - t0, failed: false, calls: 1, loserUsd: 0, loserTokens: 0 };
    } catch {
      return { ttftMs: first, totalMs: performance.now() - t0, failed: true, calls: 1, loserUsd: 0, loserTokens: 0 };
    }
  };

  /** LiteLLM's race: every provider at once; the first HTTP response (headers) wins; no failover after that. */
  const litellm: Strategy = async () => {
    const t0 = performance.now();
    let first: number | null = null;
    const acs = [new AbortController(), new AbortController()];
    const a = anthropic.messages.create({ model: MODELS.anthropic.fast, max_tokens: REQUEST.maxTokens, system: REQUEST.system, messages: REQUEST.messages, stream: true }, { signal: acs[0]!.signal });
    const o = openai.chat.completions.create({ model: MODELS.openai.fast, messages: [{ role: 'system', content: REQUEST.system }, ...REQUEST.messages], stream: true }, { signal: acs[1]!.signal });
    a.catch(() => {});
    o.catch(() => {});
    try {
      const winner = await Promise.any([a.then((s) => ({ i: 0, s })), o.then((s) => ({ i: 1, s }))]);
      acs[1 - winner.i]!.abort();
      if (winner.i === 0) {
        for await (const e of winner.s as AsyncIterable<Anthropic.MessageStreamEvent>) if (e.type === 'content_block_delta') first ??= performance.now() - t0;
      } else {
        for await (const c of winner.s as AsyncIterable<OpenAI.ChatCompletionChunk>) if (c.choices[0]?.delta?.content) first ??= performance.now() - t0;
      }
      // Loser cost is not visible to a gateway that never reads the loser's usage; counted as 0 here.
      return { ttftMs: first, totalMs: performance.now() - t0, failed: false, calls: 2, loserUsd: 0, loserTokens: 0 };
    } catch {
      return { ttftMs: first, totalMs: performance.now() - t0, failed: true, calls: 2, loserUsd: 0, loserTokens: 0 };
    }
  };

  /** Portkey's fallback: the first provider with retries (exponential backoff, no jitter), then the next. */
  const portkey: Strategy = async () => {
    const t0 = performance.now();
    let first: number | null = null;
    let calls = 0;
    for (const name of ['anthropic', 'openai'] as const) {
      for (let attempt = 0; attempt < 3; attempt++) {
        calls++;
        try {
          await providers[name].stream({ ...REQUEST, model: MODELS[name].fast, signal: new AbortController().signal, onToken: () => (first ??= performance.now() - t0) });
          return { ttftMs: first, totalMs: performance.now() - t0, failed: false, calls, loserUsd: 0, loserTokens: 0 };
        } catch {
          if (first !== null) return { ttftMs: first, totalMs: performance.now() - t0, failed: true, calls, loserUsd: 0, loserTokens: 0 };
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        }
      }
    }
    return { ttftMs: first, totalMs: performance.now() - t0, failed: true, calls, loserUsd: 0, loserTokens: 0 };
  };

  const names = opts.strategies ?? RACING_STRATEGIES;
  type Name = RacingStrategy;
  const perRun: Record<Name, ReturnType<typeof summarize>[]> = Object.fromEntries(names.map((n) => [n, []])) as never;

  function summarize(samples: Sample[]) {
    const ok = samples.filter((s) => !s.failed);
    const ttfts = ok.map((s) => s.ttftMs).filter((x): x is number => x !== null);
    return {
      ttftP50: quantile(ttfts, 0.5),
      ttftP95: quantile(ttfts, 0.95),
      ttftP99: quantile(ttfts, 0.99),
      totalP95: quantile(ok.map((s) => s.totalMs), 0.95),
      failed: samples.length - ok.length,
      callsPerAnswer: samples.reduce((s, x) => s + x.calls, 0) / samples.length,
      loserTokensPerAnswer: samples.reduce((s, x) => s + x.loserTokens, 0) / samples.length,
      loserUsdPer1k: (samples.reduce((s, x) => s + x.loserUsd, 0) / samples.length) * 1000,
    };
  }

  for (let run = 1; run <= RUNS; run++) {
    const health = createProviderHealth();
    const all: Record<Name, Strategy> = {
      'anthropic only': single('anthropic'),
      'openai only': single('openai'),
      'litellm-style': litellm,
      'portkey-style': portkey,
      'turnflow hedged (auto)': turnflow(health, 'auto'),
      'hedged at p60': turnflow(createProviderHealth(Date.now, 0.6), 'auto'),
      'hedged at p50': turnflow(createProviderHealth(Date.now, 0.5), 'auto'),
      'turnflow race at once': turnflow(createProviderHealth(), 0),
    };
    const strategies = all;
    const tasks = names.flatMap((n) => Array.from({ length: CALLS }, (_, i) => ({ n, i })));
    // Interleaved: a fixed shuffle so each strategy's calls spread over the whole run.
    let seed = run * 7919;
    for (let i = tasks.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [tasks[i], tasks[j]] = [tasks[j]!, tasks[i]!];
    }
    const samples: Record<Name, Sample[]> = Object.fromEntries(names.map((n) => [n, []])) as never;
    let done = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let t = tasks.shift(); t; t = tasks.shift()) {
          samples[t.n].push(await strategies[t.n](t.i));
          if (++done % 100 === 0) progress(`  run ${run}/${RUNS}: ${done}/${names.length * CALLS} calls, ${Math.round((Date.now() - started) / 1000)} s`);
        }
      }),
    );
    for (const n of names) perRun[n].push(summarize(samples[n]));
  }
  await offline.close();

  const rows = names.map((n) => {
    const runs = perRun[n];
    const m = (k: keyof ReturnType<typeof summarize>) => median(runs.map((r) => r[k]));
    return { name: n, ttftP50Ms: m('ttftP50'), ttftP95Ms: m('ttftP95'), ttftP99Ms: m('ttftP99'), totalP95Ms: m('totalP95'), failed: runs.reduce((s, r) => s + r.failed, 0), callsPerAnswer: m('callsPerAnswer'), loserTokensPerAnswer: m('loserTokensPerAnswer'), loserUsdPer1kAnswers: m('loserUsdPer1k') };
  });
  const singles = rows.filter((r) => r.name.endsWith(' only')).map((r) => r.ttftP95Ms ?? Infinity);
  const best = Math.min(...singles);
  return { profile: RACING_PROFILE, calls: CALLS, runs: RUNS, concurrency: CONCURRENCY, stallTimeoutMs: STALL_TIMEOUT_MS, rows, bestSingleP95Ms: best, racedP95Ms: rows.find((r) => r.name === 'turnflow hedged (auto)')?.ttftP95Ms ?? null };
}

// CLI: `npm run bench:racing`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: args } = parseArgs({
    options: {
      calls: { type: 'string', default: '150' },
      runs: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '12' },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const out = await runRacing({
    calls: args.quick ? 40 : Number(args.calls),
    runs: args.quick ? 1 : Number(args.runs),
    concurrency: Number(args.concurrency),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const fmt = (x: number | null, d = 0) => (x === null ? '-' : x.toFixed(d));
  console.log(`\nRacing, ${out.runs} run(s) x ${out.calls} calls per strategy, concurrency ${out.concurrency}, medians over runs (ms)`);
  console.log(`profile: ${JSON.stringify(out.profile)}; stall timeout ${out.stallTimeoutMs} ms\n`);
  console.log(['strategy'.padEnd(24), 'ttft p50', 'ttft p95', 'ttft p99', 'total p95', 'failed', 'calls/ans', 'loser tok/ans', 'loser $/1k ans', 'p95 vs best single'].join('  '));
  for (const r of out.rows) {
    console.log(
      [r.name.padEnd(24), fmt(r.ttftP50Ms).padStart(8), fmt(r.ttftP95Ms).padStart(8), fmt(r.ttftP99Ms).padStart(8), fmt(r.totalP95Ms).padStart(9), String(r.failed).padStart(6), fmt(r.callsPerAnswer, 2).padStart(9), fmt(r.loserTokensPerAnswer).padStart(13), fmt(r.loserUsdPer1kAnswers, 4).padStart(14), r.ttftP95Ms === null ? '-' : (r.ttftP95Ms / out.bestSingleP95Ms).toFixed(2).padStart(18)].join('  '),
    );
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(out, null, 2));
  process.exit(0);
}
