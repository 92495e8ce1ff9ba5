import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ProviderName } from '../../infra/llm/provider.ts';
import { answeredTurnResult } from '../../workflows/shared/answered-result.ts';
import { callTotals, type GenerationSummary, type HistoryMessage, type ModelCall, type TurnEvent, type TurnResult, type Usage } from '../../workflows/shared/contract.ts';
import type { Slots } from '../../workflows/shared/understanding.ts';
import { FAILURE_TYPES } from '../../workflows/shared/failures.ts';
import { renderChartFor, type ChartLinks } from '../charts/activities.ts';
import type { ActivityDeps } from '../deps.ts';
import { checkOutput, type OutputGuardrailResult } from '../guardrails/activities.ts';
import { redactPii, StreamingRedactor } from '../guardrails/rules.ts';
import { priceCall } from '../model-calls.ts';
import { jitteredDelayMs } from '../retry.ts';
import { HEARTBEAT_EVERY_MS } from '../heartbeat.ts';
import { StreamTakenOver } from '../turn-events/bus.ts';
import { answerSoFar } from './continuation.ts';
import { chunkTexts } from '../knowledge/store.ts';
import { readResult } from '../sql/activities.ts';
import { buildDataBlock } from '../sql/prompts.ts';
import { describeResult } from '../sql/describe.ts';
import { type AnswerAudience, buildContextBlocks, buildSystemPrompt, buildUserContext } from './prompt.ts';
import { awaitVerdict } from './hold.ts';
import { createProviderHealth, type ProviderHealth } from './provider-health.ts';
import { raceProviders, RaceError, type RaceCandidate, type RaceResult } from './race.ts';

/** Input of `generateAnswer`: everything the model needs, nothing large. */
export interface GenerateAnswerInput {
  stream: string;
  tenantId: string;
  /** Providers in start order (those without a key in this deployment are skipped). */
  providers?: ProviderName[];
  /** `race`: hedged racing on the first token; `single`: the next provider only after one fails. */
  strategy?: 'race' | 'single';
  /** Delay before the next provider starts while none has sent a token (`auto`: from the first one's recent latency). */
  hedgeDelayMs?: number | 'auto';
  /** A streaming answer with no token for this long continues on another provider. */
  stallTimeoutMs?: number;
  /** Epoch ms: without a first token by then the call ends (`AnswerDeadlineExceeded`) and the turn moves on. */
  firstTokenDeadline?: number;
  /** One provider, no race: the input of turns started before racing (their histories replay with it). */
  provider?: ProviderName;
  message: string;
  history: HistoryMessage[];
  receivedAt: number;
  maxTokens: number;
  /** Model tier by complexity: the provider's fast or strong model. */
  tier: 'fast' | 'strong';
  /** Who is asking (gathered profile, detected language); told to the model outside the cached prompt. */
  audience?: AnswerAudience;
  /** Retrieved knowledge chunks by id (their texts are read from the store, tenant-scoped). */
  knowledgeChunkIds?: number[];
  /** The SQL agent's stored result by reference, and the slots that say what it measures. */
  data?: { ref: string; slots: Slots };
  /** Step events the workflow queued; published before the answer starts. */
  progress?: TurnEvent[];
  /**
   * A speculative answer: stream from the provider but hold the tokens until the workflow's verdict on
   * `gate` (turnGateKey): released, they go out at once and `done` carries the verdict's draft; discarded (or
   * no verdict within `maxWaitMs`), the calls stop and the activity fails with `SpeculationDiscarded`.
   */
  hold?: { gate: string; maxWaitMs: number };
  /**
   * Deliver the turn from here: run the output check, render the chart beside the answer, and publish the
   * one `done` as soon as the answer is complete, instead of after the workflow task that follows this
   * activity (tens of ms). `draft` is the turn's result so far (understanding, slots, fallbacks, steps, calls).
   */
  deliver?: { draft: TurnResult; inputRedactions: number; failOpen: boolean; chart?: { resultRef: string; slots: Slots } };
}

/** What the workflow keeps of a generated answer. */
export interface GenerateAnswerOutput {
  answer: string;
  /** The provider whose first token won. */
  provider: ProviderName;
  model: string;
  /** Every call of the race, losers and failures included. */
  usage: Usage;
  costUsd: number;
  listCostUsd?: number;
  calls?: ModelCall[];
  generation?: GenerationSummary;
  /** From the API accepting the turn to the first token on the turn's stream. */
  ttftMs: number | null;
  /** The provider's own time to first token (from the race's start). */
  providerTtftMs: number | null;
  providerMs: number;
  redactions: number;
  /** The documents whose passages the model was given. */
  sources: { slug: string; title: string }[];
  /** With `deliver`: the result published as the turn's `done` (absent when publishing failed: the workflow delivers). */
  delivered?: TurnResult;
  /** With `deliver`: the output check's verdict on the answer. */
  output?: OutputGuardrailResult;
  /** With `deliver`: the chart rendered beside the answer. */
  chart?: ChartLinks | null;
}

/** Details of a failed answer: the calls it made (they cost tokens too); read by the workflow from the failure. */
export interface GenerateAnswerFailureDetails {
  calls: ModelCall[];
  reason: RaceError['reason'];
}

/** The answer-generation activity: races the providers, streams the winner's tokens to the turn's event stream. */
export function createGenerateAnswerActivities(deps: Pick<ActivityDeps, 'providers' | 'events' | 'appDb' | 'kv' | 'prices' | 'metrics'>, health: ProviderHealth = createProviderHealth()) {
  const activities = {
    /** Generates the answer: hedged race on the first content token, stall failover, tokens streamed redacted and tagged with the attempt. */
    async generateAnswer(input: GenerateAnswerInput): Promise<GenerateAnswerOutput> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const wanted = input.providers ?? (input.provider ? [input.provider] : []);
      const configured = wanted.filter((p) => deps.providers[p]);
      if (!configured.length) {
        throw ApplicationFailure.nonRetryable(`no answer provider is configured (wanted: ${wanted.join(', ') || 'none'})`, FAILURE_TYPES.providerNotConfigured);
      }
      const started = Date.now();
      let tokens = 0;
      // Calls of earlier attempts that failed: carried in the heartbeat details, which survive a retry, so their cost is counted.
      const carried = (ctx.info.heartbeatDetails as { failedCalls?: ModelCall[] } | undefined)?.failedCalls ?? [];
      const heartbeat = setInterval(() => ctx.heartbeat({ tokens, failedCalls: carried }), HEARTBEAT_EVERY_MS);
      const strategy = input.strategy ?? 'single';
      const order = health.order(configured);
      const hedgeDelayMs = strategy === 'race' && order.length > 1 ? health.hedgeDelay(order[0]!, input.hedgeDelayMs ?? 'auto') : null;
      const candidates: RaceCandidate[] = order.map((name) => ({ name, provider: deps.providers[name]!, model: deps.providers[name]!.models[input.tier] }));
      const summary = (race: Pick<RaceResult, 'failovers'> & { winner: ProviderName | null }): GenerationSummary => ({
        providers: order,
        strategy,
        hedgeDelayMs,
        tier: input.tier,
        winner: race.winner,
        failovers: race.failovers,
        attempts: attempt,
      });
      const priced = (calls: RaceResult['calls']): ModelCall[] =>
        calls.map((c) => priceCall(deps.prices, deps.providers[c.provider], { ...c, step: 'generateAnswer' }));

      // This attempt becomes the stream's one writer, and reads what earlier ones (a dead worker, a lost
      // heartbeat, a fallback after failed attempts) already streamed: it continues that text, never restarts it.
      const writer = `${ctx.info.activityId}:${attempt}`;
      const before = answerSoFar(await deps.events.claim(input.stream, writer));
      if (before.delivered) return outputOfDelivered(before.delivered);
      const takenOver = new AbortController();
      const publish = (event: TurnEvent) => {
        const written = deps.events.publish(input.stream, event, writer);
        // Taken over: a later attempt writes now; this one stops its calls (its result is not wanted).
        written.catch((err: unknown) => {
          if (err instanceof StreamTakenOver) takenOver.abort();
        });
        return written;
      };

      // A speculative answer streams from the provider but holds its tokens until the workflow's verdict.
      const verdict = input.hold ? awaitVerdict(deps.events, input.hold.gate, input.hold.maxWaitMs, ctx.cancellationSignal) : null;
      const discarded = new AbortController();
      let announced = false;
      const announce = async (progress: TurnEvent[] | undefined) => {
        announced = true;
        // Steps an earlier attempt published already are not published again.
        const steps = (progress ?? []).filter((e) => !before.has(e)).map(publish);
        // After an interruption the text goes on from where the client has it (`continuesFrom` characters).
        const started = publish({
          type: 'step',
          data: { name: 'generateAnswer', status: 'started', attempt, ...(before.text ? { reason: 'continuing the answer', continuesFrom: before.text.length } : attempt > 1 ? { reason: 'retry' } : {}) },
        });
        await Promise.all([...steps, started]);
      };
      // Not awaited before the provider call: the announcement and the tokens go out on one connection, in order.
      const announcing = verdict ? null : announce(input.progress);
      // Its failure surfaces where the stream's writes are awaited (below), never as an unhandled rejection.
      announcing?.catch(() => {});
      try {
        const [passages, stored] = await Promise.all([
          chunkTexts(deps.appDb, input.tenantId, input.knowledgeChunkIds ?? []),
          input.data ? readResult(deps.kv, input.tenantId, input.data.ref) : Promise.resolve(null),
        ]);
        const dataBlock = stored && input.data ? buildDataBlock(describeResult(stored, input.data.slots)) : '';
        const sources = [...new Map(passages.map((p) => [p.slug, { slug: p.slug, title: p.title }])).values()];
        // The chart renders while the answer streams; a failed chart only loses the chart.
        const chartStarted = Date.now();
        const chartJob = input.deliver?.chart
          ? renderChartFor(deps, { stream: input.stream, tenantId: input.tenantId, ...input.deliver.chart }).catch((err: unknown) => {
              ctx.log.warn('chart rendering failed; the answer goes without it', { error: String(err) });
              return null;
            })
          : null;
        const redactor = new StreamingRedactor();
        const pending: Promise<unknown>[] = announcing ? [announcing] : [];
        let firstTokenAt: number | null = null;
        // Where the next token starts in the answer: after the text earlier attempts streamed.
        let streamed = before.text.length;
        let held: string[] | null = verdict ? [] : null;
        const emit = (text: string) => {
          if (!text) return;
          if (held) {
            held.push(text);
            return;
          }
          firstTokenAt ??= Date.now();
          // Not awaited one by one: a single connection keeps them in order; awaited together below.
          pending.push(publish({ type: 'token', data: { text, attempt, at: streamed } }));
          streamed += text.length;
        };
        // Released: the queued steps, `started`, then the held tokens at once; discarded: the calls stop.
        const decided = verdict?.then(async (v) => {
          if (!v.release) {
            discarded.abort();
            return v;
          }
          const announcement = announce([...(input.progress ?? []), ...(v.progress ?? [])]);
          pending.push(announcement);
          await announcement;
          // Each held chunk as its own event, as it would have streamed (pipelined, so no later than one).
          const chunks = held!;
          held = null;
          for (const text of chunks) emit(text);
          return v;
        });
        let race: RaceResult;
        // From the activity's start to the providers' race: what the answer step adds before any model works.
        const prepareMs = Date.now() - started;
        try {
          race = await raceProviders({
            candidates,
            ...(before.text ? { continueFrom: before.text } : {}),
            hedgeDelayMs,
            stallTimeoutMs: input.stallTimeoutMs ?? 4000,
            ...(input.firstTokenDeadline !== undefined ? { firstTokenDeadline: input.firstTokenDeadline } : {}),
            request: {
              system: buildSystemPrompt(input.tenantId),
              systemContext: [input.audience ? buildUserContext(input.audience) : '', buildContextBlocks(passages), dataBlock].filter(Boolean).join('\n') || undefined,
              // Redacted again here: when the input check failed open, the message reaches us unredacted.
              messages: [...input.history, { role: 'user', content: redactPii(input.message).text }],
              maxTokens: input.maxTokens,
            },
            signal: AbortSignal.any([ctx.cancellationSignal, takenOver.signal, ...(verdict ? [discarded.signal] : [])]),
            onToken: (text) => {
              tokens++;
              emit(redactor.push(text));
            },
            onFailover: (from, to, reason) => {
              ctx.log.warn('answer failed over mid-stream', { from, to, reason });
              pending.push(publish({ type: 'step', data: { name: 'failover', status: 'completed', attempt, reason: `${reason}; continuing on ${to}` } }));
            },
          });
        } finally {
          await Promise.allSettled(pending);
        }
        emit(redactor.flush());
        // A held answer complete before the verdict waits for it here.
        const released = decided ? await decided : null;
        if (released && !released.release) throw new RaceError('the speculative answer was discarded', race.calls, 'cancelled', false, undefined, '');
        await Promise.all(pending);
        if (released) for (const c of race.calls) if (c.outcome === 'won') c.outcome = 'speculative-won';
        const calls = [...carried, ...priced(race.calls)];
        health.learn(race.calls);
        const ms = Date.now() - started;
        await publish({ type: 'step', data: { name: 'generateAnswer', status: 'completed', ms, attempt } });
        const out: GenerateAnswerOutput = {
          answer: race.text,
          provider: race.winner,
          model: race.model,
          ...callTotals(calls),
          calls,
          generation: summary(race),
          ttftMs: firstTokenAt === null ? null : firstTokenAt - input.receivedAt,
          providerTtftMs: race.ttftMs,
          providerMs: ms,
          redactions: redactor.redactions,
          sources,
        };
        if (input.deliver) {
          const chartMs = Date.now() - chartStarted;
          const chart = chartJob ? await chartJob : null;
          // A released answer completes the workflow's draft of the moment it decided (the model's understanding, its calls).
          const d = released?.draft ? { ...input.deliver, draft: released.draft } : input.deliver;
          Object.assign(out, await deliver(input, writer, d, out, chart, { generateAnswer: ms, 'generateAnswer.prepare': prepareMs, ...(chartJob ? { renderChart: chartMs } : {}) }));
        }
        return out;
      } catch (err) {
        // Cancelled: reported as a cancellation (the signal's own CancelledFailure), never as a failure.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? err;
        if (takenOver.signal.aborted || err instanceof StreamTakenOver) {
          // A later attempt holds the stream (this one was given up for dead): it finishes the answer.
          throw ApplicationFailure.create({ type: FAILURE_TYPES.answerTakenOver, message: 'a later attempt took the answer over', nonRetryable: true });
        }
        // A held answer announces itself only once released: before that, nothing to mark failed on the stream.
        if (announced) {
          await publish({ type: 'step', data: { name: 'generateAnswer', status: 'failed', ms: Date.now() - started, attempt } }).catch(() => {});
        }
        if (!(err instanceof RaceError)) throw err;
        if (discarded.signal.aborted) {
          // Discarded: every call it made is waste, counted as such; the turn answers on the model's reading.
          const calls = [...carried, ...priced(err.calls.map((c) => ({ ...c, outcome: 'speculative-discarded' as const })))];
          throw ApplicationFailure.create({ type: FAILURE_TYPES.speculationDiscarded, message: 'the speculative answer was discarded', nonRetryable: true, details: [{ calls, reason: 'cancelled' }] });
        }
        health.learn(err.calls);
        const details: GenerateAnswerFailureDetails = { calls: [...carried, ...priced(err.calls)], reason: err.reason };
        ctx.heartbeat({ tokens, failedCalls: details.calls });
        if (err.reason === 'deadline') {
          throw ApplicationFailure.create({ type: FAILURE_TYPES.answerDeadline, message: err.message, nonRetryable: true, details: [details] });
        }
        if (!err.retryable) throw ApplicationFailure.create({ type: FAILURE_TYPES.providerRejected, message: err.message, nonRetryable: true, details: [details] });
        // Full jitter, but never sooner than the providers asked (Retry-After); a retry that could only start
        // after the turn's deadline is not worth scheduling: the turn moves on to its fallbacks now.
        const nextRetryDelay = Math.max(jitteredDelayMs(attempt), err.retryAfterMs ?? 0);
        const tooLate = input.firstTokenDeadline !== undefined && Date.now() + nextRetryDelay >= input.firstTokenDeadline;
        throw ApplicationFailure.create({ type: FAILURE_TYPES.providerUnavailable, message: err.message, details: [details], nextRetryDelay, nonRetryable: tooLate });
      } finally {
        clearInterval(heartbeat);
      }
    },
  };


  /** What an attempt returns when an earlier one had already delivered the turn (then died before reporting it). */
  function outputOfDelivered(result: TurnResult): GenerateAnswerOutput {
    return {
      answer: result.answer,
      provider: (result.provider ?? 'anthropic') as ProviderName,
      model: result.model ?? '',
      usage: result.usage,
      costUsd: result.costUsd,
      ...(result.listCostUsd !== undefined ? { listCostUsd: result.listCostUsd } : {}),
      ...(result.calls ? { calls: result.calls } : {}),
      ...(result.generation ? { generation: result.generation } : {}),
      ttftMs: result.timings.ttftMs,
      providerTtftMs: null,
      providerMs: 0,
      redactions: 0,
      sources: result.sources ?? [],
      delivered: result,
      output: { answer: result.answer, redactions: 0, violations: result.guardrail?.reasons ?? [] },
      chart: result.chart ?? null,
    };
  }

  /** Output check, the result, and the one `done`: what the workflow would otherwise do after its next task. */
  async function deliver(
    input: GenerateAnswerInput,
    writer: string,
    d: NonNullable<GenerateAnswerInput['deliver']>,
    g: GenerateAnswerOutput,
    chart: ChartLinks | null,
    steps: Record<string, number>,
  ): Promise<Pick<GenerateAnswerOutput, 'delivered' | 'output' | 'chart'>> {
    let output: OutputGuardrailResult;
    const draft = { ...d.draft, fallbacks: [...d.draft.fallbacks] };
    try {
      output = checkOutput(input.tenantId, g.answer);
    } catch (err) {
      Context.current().log.warn('output check failed; the answer goes as streamed', { error: String(err) });
      output = { answer: g.answer, redactions: 0, violations: [] };
      draft.fallbacks.push('checkOutputGuardrails');
    }
    const result = answeredTurnResult(draft, g, output, { inputRedactions: d.inputRedactions, failOpen: d.failOpen, ...(chart ? { chart } : {}) }, {
      totalMs: Math.max(0, Date.now() - input.receivedAt),
      steps: { ...d.draft.timings.steps, ...steps },
    });
    try {
      const id = await deps.events.publishTerminal(input.stream, { type: 'done', data: result }, writer);
      if (id !== null) {
        try {
          deps.metrics?.recordTurn(input.tenantId, result);
        } catch {
          // Metrics never fail a turn.
        }
      }
      return { delivered: result, output, chart };
    } catch (err) {
      // The stream is unreachable: the workflow tries again with its own finish.
      Context.current().log.warn('could not publish done from the answer; the workflow will', { error: String(err) });
      return { output, chart };
    }
  }

  return activities;
}

