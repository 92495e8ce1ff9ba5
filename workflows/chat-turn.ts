import { CancellationScope, deprecatePatch, isCancellation } from '@temporalio/workflow';
import type { ChatTurnInput, TurnResult } from './shared/contract.ts';
import { EFFORT_BY_COMPLEXITY } from './shared/effort.ts';
import { slotSignature } from './shared/slot-signature.ts';
import { DEFAULT_TENANT_SETTINGS, UNCACHEABLE_INTENTS } from './shared/tenant-settings.ts';
import { Turn } from './turn/context.ts';
import { generate } from './turn/generate.ts';
import { checks, retrieval, sqlAgent, turnIo } from './turn/proxies.ts';
import { decideSemantic } from './turn/semantic.ts';
import { understand } from './turn/understand.ts';

/**
 * One chat turn: exact cache; guardrail beside gathering, capture, detect and the semantic search
 * (reconciled); the semantic decision; the SQL agent and knowledge retrieval; streamed generation
 * with a fallback branch; output guardrail; one way out (`finish`).
 */
export async function chatTurn(input: ChatTurnInput): Promise<TurnResult> {
  // Retired patches (README, "Changing the workflow"): every run recorded before them has long closed, so their
  // old branches are gone; the calls stay one release so that runs recorded with the patch's marker still replay.
  deprecatePatch('understanding-v2');
  const turn = new Turn(input);
  // The API answered it already (an exact hit): record it, deliver nothing again.
  if (input.delivered) return turn.finish({ kind: 'delivered', result: input.delivered });
  try {
    return await answerTurn(turn);
  } catch (err) {
    // A cancelled turn still ends its stream with exactly one terminal event (`error`, code `cancelled`)
    // and is stored as such; then the workflow ends cancelled.
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => turn.finish({ kind: 'cancelled' }));
    throw err;
  }
}

/** The phases of a turn, each exit through `turn.finish`. */
async function answerTurn(turn: Turn): Promise<TurnResult> {
  const { input } = turn;

  // 1. Announce the turn, load the tenant's settings, look up the exact cache (one local activity).
  turn.opened = await turn.orFallback(
    'lookupExactCache',
    () => turnIo.openTurn({ stream: turn.stream, turnId: input.turnId, workflowId: turn.workflowId, tenantId: input.tenantId, sessionId: input.sessionId, message: input.message }),
    null,
  );
  turn.opened ??= { tenant: { settings: DEFAULT_TENANT_SETTINGS, generation: 0, today: new Date().toISOString().slice(0, 10), timeZone: 'UTC' }, language: 'und', previous: null, exactKey: null, hit: null };
  turn.step('lookupExactCache', 'completed');
  if (turn.opened.hit) return turn.finish({ kind: 'cached', cache: 'exact', cached: turn.opened.hit });

  // 2. Understand: input guardrail | gather | capture | detect | semantic search, then reconcile. A deny stops the rest.
  const understood = await understand(turn);
  if (understood.blocked) return turn.finish({ kind: 'blocked', guard: understood.blocked });
  if (understood.early) {
    // A semantic hit on the rules' signature: answered now; the model calls still running are stopped.
    const result = await turn.finish({ kind: 'cached', cache: 'semantic', cached: understood.early.hit, similarity: understood.early.hit.similarity, stopWork: true });
    await understood.early.rest;
    return result;
  }

  // 3. Semantic cache: the nearest cached questions came with the embedding; a hit needs the threshold and
  // the same slot signature ("sales last week" never answers "last month"); a close miss is a suggestion.
  const { intent, slots, complexity } = turn.understanding;
  // Settings loaded before a section existed (an older worker's, in this turn's history) get its defaults.
  const settings = { ...DEFAULT_TENANT_SETTINGS, ...turn.opened.tenant.settings };
  // The whole-turn deadline: phases bound themselves by it, and generation switches to the simplified flow past it.
  const deadlineAt = input.receivedAt + settings.deadlines.turnMs;
  if (understood.semantic && !UNCACHEABLE_INTENTS.includes(intent)) {
    const { vector, model, candidates } = understood.semantic;
    const signature = slotSignature(intent, slots);
    const { hit, suggestion } = decideSemantic(candidates, signature, settings.semanticCache.threshold);
    if (hit) return turn.finish({ kind: 'cached', cache: 'semantic', cached: hit, similarity: hit.similarity });
    if (suggestion) turn.suggestion = suggestion;
    turn.semanticWrite = { vector, model, intent, signature };
  }

  // 4. Data and documents, in parallel when a question needs both: the SQL agent for analytics, the
  // tenant's documents for policy questions (how many passages, by complexity). The phase has a budget:
  // each step stops at it, and what the other finished is used.
  const effort = EFFORT_BY_COMPLEXITY[complexity];
  const dataDeadline = Math.min(Date.now() + settings.deadlines.dataMs, deadlineAt);
  const similar = understood.semantic ? { vector: understood.semantic.vector, model: understood.semantic.model } : {};
  const wantsDocs = intent === 'knowledge' || Boolean(slots.topic);
  // Without something to measure or break down there is no query to write: the answer asks instead.
  const wantsData = intent === 'analytics' && Boolean(slots.metric || slots.dimension);
  if (intent === 'analytics' && !wantsData) turn.step('runSqlAgent', 'skipped', { reason: 'no metric or dimension' });
  if (wantsDocs && effort.topK === 0) turn.step('retrieveKnowledge', 'skipped', { reason: 'trivial' });
  const fetchData = () =>
    wantsData
      ? turn.orFallback(
          'runSqlAgent',
          () =>
            sqlAgent.runSqlAgent({
              stream: turn.stream,
              tenantId: input.tenantId,
              question: turn.redactedMessage,
              slots,
              today: turn.opened!.tenant.today,
              timeZone: turn.opened!.tenant.timeZone,
              deadlineAt: dataDeadline,
              ...similar,
            }),
          null,
        )
      : Promise.resolve(null);
  const fetchDocs = () =>
    wantsDocs && effort.topK > 0
      ? turn.orFallback(
          'retrieveKnowledge',
          () =>
            retrieval.retrieveKnowledge({
              tenantId: input.tenantId,
              generation: turn.opened!.tenant.generation,
              question: turn.redactedMessage,
              topK: effort.topK,
              deadlineAt: dataDeadline,
              ...(slots.topic ? { topic: slots.topic } : {}),
              ...similar,
            }),
          null,
        )
      : Promise.resolve(null);
  // A benchmark's baseline runs them one after another (tenant setting `pipeline.parallel`).
  const [data, knowledge] = settings.pipeline.parallel ? await Promise.all([fetchData(), fetchDocs()]) : [await fetchData(), await fetchDocs()];
  if (wantsData) turn.step('runSqlAgent', data ? 'completed' : 'failed');
  turn.addCalls(data?.calls);
  // The agent's stages and its self-corrections, for `done.timings.steps` and the operator.
  if (data) for (const [stage, ms] of Object.entries(data.timings)) turn.steps[`runSqlAgent.${stage}`] = ms;
  if (data && data.attempts > 1) turn.steps['runSqlAgent.attempts'] = data.attempts;
  if (wantsDocs && effort.topK > 0) turn.step('retrieveKnowledge', knowledge ? 'completed' : 'failed');
  const knowledgeChunkIds = knowledge?.chunks.map((c) => c.id) ?? [];

  // 5. Generate, streamed; effort (answer length, model tier) by complexity. The answer activity delivers
  // the turn itself (output check, the chart rendered beside the answer, `done`) the moment the answer is
  // complete: `done` does not wait for the workflow task that follows it.
  deprecatePatch('deliver-from-answer');
  const generated = await generate(
    turn,
    {
      stream: turn.stream,
      tenantId: input.tenantId,
      message: turn.redactedMessage,
      history: understood.context.history,
      receivedAt: input.receivedAt,
      maxTokens: effort.maxTokens,
      tier: effort.tier,
      audience: { displayName: understood.context.profile?.displayName, locale: understood.context.profile?.locale, language: turn.understanding.language },
      knowledgeChunkIds,
      ...(data ? { data: { ref: data.resultRef, slots } } : {}),
    },
    settings,
    deadlineAt,
    data ? { chart: { resultRef: data.resultRef, slots } } : {},
  );
  turn.chart = generated?.chart ?? undefined;
  if (!generated) return turn.finish({ kind: 'canned' });
  if (generated.delivered) return turn.finish({ kind: 'answered', generated, output: generated.output!, delivered: generated.delivered });

  // 6. Output guardrail on the whole answer (the stream was redacted token by token), then out.
  const output =
    generated.output ??
    (await turn.orFallback('checkOutputGuardrails', () => checks.checkOutputGuardrails({ tenantId: input.tenantId, answer: generated.answer }), {
      answer: generated.answer,
      redactions: 0,
      violations: [] as string[],
    }));
  return turn.finish({ kind: 'answered', generated, output });
}
