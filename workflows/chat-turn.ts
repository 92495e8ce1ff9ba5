import { CancellationScope, deprecatePatch, isCancellation, patched } from '@temporalio/workflow';
import { DATA_UNAVAILABLE_REASON, DATA_TOO_SLOW_REASON } from './shared/answers.ts';
import type { ChatTurnInput, TurnResult } from './shared/contract.ts';
import { DEFAULT_TENANT_SETTINGS, UNCACHEABLE_INTENTS } from './shared/tenant-settings.ts';
import { Turn } from './turn/context.ts';
import { fetchData, fetchDocs, type Similar } from './turn/data.ts';
import { answerRequest, generate } from './turn/generate.ts';
import { checks, turnIo } from './turn/proxies.ts';
import { routeOf, sameDocs, sameRoute } from './turn/route.ts';
import { decideSemantic } from './turn/semantic.ts';
import { understand } from './turn/understand.ts';

/**
 * One chat turn: exact cache; guardrail beside gathering, the semantic search, retrieval and (unless the
 * rules are sure) the model's capture and detect, with the data and a held answer started on the rules'
 * reading meanwhile; the semantic decision; data and documents; the streamed answer with its fallbacks;
 * output guardrail; one way out (`finish`).
 */
export async function chatTurn(input: ChatTurnInput): Promise<TurnResult> {
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

  // 1. Announce the turn, load the tenant's settings, look up the exact cache, read the question by the rules
  // (one local activity), unless the API did it before starting the turn (it looks up the caches itself).
  if (input.prepared) {
    turn.opened = input.prepared.opened;
    turn.steps['lookupExactCache'] = input.prepared.lookupMs;
  } else {
    turn.opened = await turn.orFallback(
      'lookupExactCache',
      () => turnIo.openTurn({ stream: turn.stream, turnId: input.turnId, workflowId: turn.workflowId, tenantId: input.tenantId, sessionId: input.sessionId, message: input.message }),
      null,
    );
  }
  turn.opened ??= { tenant: { settings: DEFAULT_TENANT_SETTINGS, generation: 0, today: new Date().toISOString().slice(0, 10), timeZone: 'UTC' }, language: 'und', previous: null, exactKey: null, hit: null };
  turn.step('lookupExactCache', 'completed');
  if (turn.opened.hit) return turn.finish({ kind: 'cached', cache: 'exact', cached: turn.opened.hit });
  // Deprecated (README, "Changing the workflow"): runs from before the critical path was reshaped have long
  // closed and their branch is gone; the call stays one release so that runs recorded with its marker replay.
  deprecatePatch('critical-path');

  // Settings loaded before a section existed (an older worker's, in this turn's history) get its defaults.
  const settings = { ...DEFAULT_TENANT_SETTINGS, ...turn.opened.tenant.settings };
  // The whole-turn deadline: phases bound themselves by it, and generation switches to the simplified flow past it.
  const deadlineAt = input.receivedAt + settings.deadlines.turnMs;
  const dataDeadline = Math.min(Date.now() + settings.deadlines.dataMs, deadlineAt);

  // 2. Understand: input guardrail | gather | semantic search | retrieval | capture and detect (unless the rules
  // are sure), the rules' route speculated meanwhile; then reconcile when it can change the route. A deny stops the rest.
  const understood = await understand(turn, { turn: deadlineAt, data: dataDeadline });
  const spec = understood.speculation;
  if (understood.blocked) return turn.finish({ kind: 'blocked', guard: understood.blocked });
  if (understood.early) {
    // A semantic hit on the rules' signature: answered now; the model calls still running are stopped.
    const result = await turn.finish({ kind: 'cached', cache: 'semantic', cached: understood.early.hit, similarity: understood.early.hit.similarity, stopWork: true });
    await understood.early.rest;
    return result;
  }
  const route = routeOf(turn.understanding);
  const confirmed = spec !== undefined && sameRoute(spec.route, route);

  // 3. Semantic cache: the nearest cached questions came with the embedding; a hit needs the threshold and
  // the same slot signature ("sales last week" never answers "last month"); a close miss is a suggestion.
  if (understood.semantic && !UNCACHEABLE_INTENTS.includes(route.intent)) {
    const { vector, model, candidates } = understood.semantic;
    const { hit, suggestion } = decideSemantic(candidates, route.signature, settings.semanticCache.threshold);
    if (hit) {
      await spec?.discard();
      await Promise.all([understood.docs?.result, understood.data?.result]);
      return turn.finish({ kind: 'cached', cache: 'semantic', cached: hit, similarity: hit.similarity });
    }
    if (suggestion) turn.suggestion = suggestion;
    turn.semanticWrite = { vector, model, intent: route.intent, signature: route.signature };
  }
  if (spec && !confirmed) await spec.discard();

  // 4. Data and documents, in parallel when a question needs both: the SQL agent for analytics, the
  // tenant's documents for policy questions (how many passages, by complexity). What started on the rules'
  // reading is used when the route is the same; the phase has a budget, each step stops at it.
  const similar: Similar = understood.semantic ? { vector: understood.semantic.vector, model: understood.semantic.model } : {};
  if (route.asksForMetric) turn.step('runSqlAgent', 'skipped', { reason: 'no metric or dimension' });
  if (route.docsTrivial) turn.step('retrieveKnowledge', 'skipped', { reason: 'trivial' });
  const early = { data: understood.data && sameRoute(understood.data.route, route) ? understood.data.result : null, docs: understood.docs && sameDocs(understood.docs.route, route) ? understood.docs.result : null };
  // Work for another route ends before the turn does (its result unused).
  if (understood.data && !early.data) await understood.data.result;
  if (understood.docs && !early.docs) await understood.docs.result;
  const data = () => early.data ?? (route.wantsData ? fetchData(turn, route, similar, dataDeadline) : Promise.resolve(null));
  const docs = () => early.docs ?? (route.wantsDocs ? fetchDocs(turn, route, similar, dataDeadline) : Promise.resolve(null));
  // A benchmark's baseline runs them one after another (tenant setting `pipeline.parallel`).
  const [dataOut, docsOut] = settings.pipeline.parallel ? await Promise.all([data(), docs()]) : [await data(), await docs()];

  // The data a data-only question needs could not be read (its database down, or not back within the phase's
  // budget): the turn says so at once rather than have a model answer without the figures (it would say there
  // are none, or worse). Added behind a patch: a turn recorded before answered through the model.
  const dataMissing = route.wantsData && !dataOut && !route.wantsDocs ? (['unavailable', 'deadline'] as const).find((why) => turn.fallbacks.includes(`runSqlAgent:${why}`)) : undefined;
  if (dataMissing && patched('data-unavailable-answer')) {
    if (spec && confirmed) await spec.discard();
    turn.cannedReason = dataMissing === 'unavailable' ? DATA_UNAVAILABLE_REASON : DATA_TOO_SLOW_REASON;
    return turn.finish({ kind: 'canned' });
  }

  // 5. The answer, streamed; effort (answer length, model tier) by complexity. A confirmed speculation's
  // held answer is released; otherwise (or when it failed) the answer starts now. The answer activity
  // delivers the turn itself (output check, the chart rendered beside the answer, `done`) the moment the
  // answer is complete: `done` does not wait for the workflow task that follows it.
  const chart = dataOut ? { chart: { resultRef: dataOut.resultRef, slots: route.slots } } : {};
  const held = confirmed ? await spec.release() : null;
  // A held answer that failed (every retry) hands over to the fallbacks: a tier downgrade, the simplified flow.
  const generated = held?.ok ? held.value : await generate(turn, answerRequest(turn, understood.context, route, dataOut, docsOut), settings, deadlineAt, chart, held ?? undefined);
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
