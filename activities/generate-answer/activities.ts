import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { costUsd } from '../../infra/llm/pricing.ts';
import { ProviderError, type ProviderName } from '../../infra/llm/provider.ts';
import type { HistoryMessage, TurnEvent, Usage } from '../../workflows/shared/contract.ts';
import type { Slots } from '../../workflows/shared/understanding.ts';
import { FAILURE_TYPES } from '../../workflows/shared/failures.ts';
import type { ActivityDeps } from '../deps.ts';
import { redactPii, StreamingRedactor } from '../guardrails/rules.ts';
import { retryableFailure } from '../retry.ts';
import { publishAll } from '../turn-events/activities.ts';
import { chunkTexts } from '../knowledge/store.ts';
import { readResult } from '../sql/activities.ts';
import { buildDataBlock } from '../sql/prompts.ts';
import { describeResult } from '../sql/describe.ts';
import { type AnswerAudience, buildContextBlocks, buildSystemPrompt, buildUserContext } from './prompt.ts';

/** Input of `generateAnswer`: everything the model needs, nothing large. */
export interface GenerateAnswerInput {
  stream: string;
  tenantId: string;
  provider: ProviderName;
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
}

/** What the workflow keeps of a generated answer. */
export interface GenerateAnswerOutput {
  answer: string;
  provider: ProviderName;
  model: string;
  usage: Usage;
  costUsd: number;
  /** From the API accepting the turn to the first token on the turn's stream. */
  ttftMs: number | null;
  /** The provider's own time to first token. */
  providerTtftMs: number | null;
  providerMs: number;
  redactions: number;
  /** The documents whose passages the model was given. */
  sources: { slug: string; title: string }[];
}

/** The answer-generation activity: streams tokens to the turn's event stream as they arrive. */
export function createGenerateAnswerActivities(deps: Pick<ActivityDeps, 'providers' | 'events' | 'appDb' | 'kv'>) {
  return {
    /** Generates the answer with one provider, streaming redacted tokens; heartbeats so cancellation reaches the SDK call. */
    async generateAnswer(input: GenerateAnswerInput): Promise<GenerateAnswerOutput> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const provider = deps.providers[input.provider];
      if (!provider) {
        throw ApplicationFailure.nonRetryable(`provider ${input.provider} is not configured`, FAILURE_TYPES.providerNotConfigured);
      }
      const started = Date.now();
      await publishAll(deps.events, input.stream, input.progress);
      // Clients start the answer text anew on this event: after a retry or a fallback they may hold a partial one.
      await deps.events.publish(input.stream, {
        type: 'step',
        data: { name: 'generateAnswer', status: 'started', attempt, ...(attempt > 1 ? { reason: 'retry: discard earlier tokens' } : {}) },
      });

      const [passages, stored] = await Promise.all([
        chunkTexts(deps.appDb, input.tenantId, input.knowledgeChunkIds ?? []),
        input.data ? readResult(deps.kv, input.tenantId, input.data.ref) : Promise.resolve(null),
      ]);
      const dataBlock = stored && input.data ? buildDataBlock(describeResult(stored, input.data.slots)) : '';
      const sources = [...new Map(passages.map((p) => [p.slug, { slug: p.slug, title: p.title }])).values()];
      const redactor = new StreamingRedactor();
      const pending: Promise<unknown>[] = [];
      let firstTokenAt: number | null = null;
      let tokens = 0;
      const emit = (text: string) => {
        if (!text) return;
        firstTokenAt ??= Date.now();
        // Not awaited one by one: a single connection keeps them in order; awaited together below.
        pending.push(deps.events.publish(input.stream, { type: 'token', data: { text, attempt } }));
      };
      try {
        const result = await provider.stream({
          system: buildSystemPrompt(input.tenantId),
          systemContext: [input.audience ? buildUserContext(input.audience) : '', buildContextBlocks(passages), dataBlock].filter(Boolean).join('\n') || undefined,
          // Redacted again here: when the input check failed open, the message reaches us unredacted.
          messages: [...input.history, { role: 'user', content: redactPii(input.message).text }],
          maxTokens: input.maxTokens,
          model: provider.models[input.tier],
          signal: ctx.cancellationSignal,
          onToken: (text) => {
            tokens++;
            emit(redactor.push(text));
            ctx.heartbeat({ tokens });
          },
        });
        emit(redactor.flush());
        await Promise.all(pending);
        const ms = Date.now() - started;
        await deps.events.publish(input.stream, { type: 'step', data: { name: 'generateAnswer', status: 'completed', ms, attempt } });
        return {
          answer: result.text,
          provider: result.provider,
          model: result.model,
          usage: result.usage,
          costUsd: costUsd(result.model, result.usage),
          ttftMs: firstTokenAt === null ? null : firstTokenAt - input.receivedAt,
          providerTtftMs: result.ttftMs,
          providerMs: result.totalMs,
          redactions: redactor.redactions,
          sources,
        };
      } catch (err) {
        await Promise.allSettled(pending);
        if (ctx.cancellationSignal.aborted) throw err; // cancellation: let the SDK report it as such
        await deps.events
          .publish(input.stream, { type: 'step', data: { name: 'generateAnswer', status: 'failed', ms: Date.now() - started, attempt } })
          .catch(() => {});
        if (err instanceof ProviderError) {
          if (!err.retryable) throw ApplicationFailure.nonRetryable(err.message, FAILURE_TYPES.providerRejected);
          throw retryableFailure(FAILURE_TYPES.providerUnavailable, err.message, attempt, err);
        }
        throw retryableFailure(FAILURE_TYPES.providerUnavailable, (err as Error).message ?? String(err), attempt, err as Error);
      }
    },
  };
}
