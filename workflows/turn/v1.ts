import {
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { BLOCKED_ANSWER, CANNED_ANSWER } from '../shared/answers.ts';
import { type ChatTurnInput, type HistoryMessage, type TurnEvent, type Usage, turnStreamKey, ZERO_USAGE } from '../shared/contract.ts';
import { CacheOutcomeKey } from '../shared/search-attributes.ts';

// FROZEN: the first shipped chatTurn (before patch `understanding-v2`), kept verbatim so that turns
// started by the old workers replay and finish after an upgrade, and so that the v1 histories under
// test/replay/histories/v1/ keep replaying. Do not change; delete once no v1 turn can be open
// (after the namespace's retention) together with `deprecatePatched`. Its activity types are
// declared here because the current activity set no longer has all of them.

type Complexity = 'trivial' | 'simple' | 'moderate' | 'complex' | 'comprehensive';

interface TurnResult {
  turnId: string;
  workflowId: string;
  answer: string;
  cache: 'exact' | 'semantic' | 'none';
  intent: string;
  complexity: Complexity;
  provider?: string;
  model?: string;
  usage: Usage;
  costUsd: number;
  timings: { totalMs: number; ttftMs: number | null; steps: Record<string, number> };
  fallbacks: string[];
  guardrail?: { blocked: boolean; reasons: string[]; redactions: number };
}

/** The same query name as today's, answering v1's result shape. */
const turnResultQueryV1 = defineQuery<TurnResult | null>('turnResult');

interface GenerateAnswerOutput {
  answer: string;
  provider: string;
  model: string;
  usage: Usage;
  costUsd: number;
  ttftMs: number | null;
  redactions: number;
}

interface Activities {
  emitTurnEvents(input: { stream: string; events: TurnEvent[] }): Promise<void>;
  lookupExactCache(input: { tenantId: string; message: string }): Promise<{ answer: string; intent: string; complexity: Complexity; provider?: string; model?: string } | null>;
  checkInputGuardrails(input: { message: string }): Promise<{ allowed: boolean; reasons: string[]; redactedMessage: string; redactions: number }>;
  loadSessionHistory(input: { tenantId: string; sessionId: string }): Promise<HistoryMessage[]>;
  generateAnswer(input: Record<string, unknown>): Promise<GenerateAnswerOutput>;
  checkOutputGuardrails(input: { answer: string }): Promise<{ answer: string; redactions: number; violations: string[] }>;
  finishTurn(input: { stream: string; result: TurnResult; streamAnswer: boolean }): Promise<{ published: boolean }>;
  persistTurn(input: Record<string, unknown>): Promise<void>;
  writeExactCache(input: { tenantId: string; message: string; result: TurnResult }): Promise<void>;
}

const GREETING = /^(hi|hello|hey|thanks|thank you|good (morning|afternoon|evening)|bye)\b[\s!.?]*$/i;

/** Query complexity from cheap heuristics: length, questions asked, conjunctions. Deterministic. */
function estimateComplexity(message: string): Complexity {
  const text = message.trim();
  if (GREETING.test(text)) return 'trivial';
  const words = text.split(/\s+/).filter(Boolean).length;
  const questions = (text.match(/\?/g) ?? []).length;
  const joins = (text.match(/\b(and|versus|vs\.?|compare|compared|then|also)\b/gi) ?? []).length;
  const score = words / 12 + Math.max(0, questions - 1) + joins * 0.5;
  if (words <= 3) return 'trivial';
  if (score < 1) return 'simple';
  if (score < 2) return 'moderate';
  if (score < 3.5) return 'complex';
  return 'comprehensive';
}

/** Answer length budget by complexity. */
const MAX_TOKENS_BY_COMPLEXITY: Record<Complexity, number> = {
  trivial: 200,
  simple: 500,
  moderate: 900,
  complex: 1500,
  comprehensive: 2500,
};

// Fast in-process lookups and checks (cache, guardrails, stream writes): local activities,
// so they cost no server round trip. Short timeout; failures fall back, never fail the turn.
const fast = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 seconds',
  retry: { maximumAttempts: 3, initialInterval: '50 ms', backoffCoefficient: 2, maximumInterval: '500 ms' },
});

// App-store reads and writes: a little more time, a few jittered retries (the activities set nextRetryDelay).
const store = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3, initialInterval: '100 ms', backoffCoefficient: 2, maximumInterval: '2 seconds' },
});

// Model calls: a real activity so a crashed worker's call is retried elsewhere; heartbeats carry
// cancellation to the SDK's stream. Rejections (bad request, no such provider) are not retried.
const llm = proxyActivities<Activities>({
  startToCloseTimeout: '60 seconds',
  heartbeatTimeout: '10 seconds',
  retry: {
    maximumAttempts: 3,
    initialInterval: '500 ms',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    nonRetryableErrorTypes: ['ProviderRejected', 'ProviderNotConfigured'],
  },
});

// The fallback provider gets one quick try: the turn has already waited for the primary.
const llmFallback = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 1, nonRetryableErrorTypes: ['ProviderRejected', 'ProviderNotConfigured'] },
});

const PROVIDER_ORDER = ['anthropic', 'openai'] as const;


/** The v1 turn: exact cache, guardrails and history, streamed generation with a fallback branch, output guardrail, persistence. */
export async function chatTurnV1(input: ChatTurnInput): Promise<TurnResult> {
  const { workflowId } = workflowInfo();
  const stream = turnStreamKey(workflowId);
  const steps: Record<string, number> = {};
  const fallbacks: string[] = [];
  const complexity = estimateComplexity(input.message);
  let delivered: TurnResult | null = null;
  setHandler(turnResultQueryV1, () => delivered);

  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      steps[name] = Date.now() - t0;
    }
  };
  // A failed optional step records a fallback and yields its fallback value.
  const orFallback = async <T>(name: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await timed(name, fn);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('step failed, using its fallback value', { step: name, error: String(err) });
      fallbacks.push(name);
      return fallback;
    }
  };
  const baseResult = (): Omit<TurnResult, 'answer' | 'cache'> => ({
    turnId: input.turnId,
    workflowId,
    intent: 'general',
    complexity,
    usage: { ...ZERO_USAGE },
    costUsd: 0,
    timings: { totalMs: 0, ttftMs: null, steps },
    fallbacks,
  });
  const stamp = (r: TurnResult): TurnResult => ({
    ...r,
    timings: { ...r.timings, totalMs: Math.max(0, Date.now() - input.receivedAt), steps: { ...steps } },
  });

  await orFallback('announce', () => fast.emitTurnEvents({ stream, events: [{ type: 'turn', data: { turnId: input.turnId, workflowId } }] }), undefined);

  // 1. Exact cache.
  const cached = await orFallback('lookupExactCache', () => fast.lookupExactCache({ tenantId: input.tenantId, message: input.message }), null);
  if (cached) {
    const result = stamp({
      ...baseResult(),
      answer: cached.answer,
      cache: 'exact',
      intent: cached.intent,
      complexity: cached.complexity,
      provider: cached.provider,
      model: cached.model,
      timings: { totalMs: 0, ttftMs: Math.max(0, Date.now() - input.receivedAt), steps },
    });
    upsertSearchAttributes([{ key: CacheOutcomeKey, value: 'exact' }]);
    await deliver(stream, result, true);
    delivered = result;
    return result;
  }

  // 2. Input guardrail and session history, in parallel.
  const [guard, history] = await Promise.all([
    orFallback('checkInputGuardrails', () => fast.checkInputGuardrails({ message: input.message }), {
      allowed: true,
      reasons: [] as string[],
      redactedMessage: input.message,
      redactions: 0,
    }),
    orFallback('loadSessionHistory', () => store.loadSessionHistory({ tenantId: input.tenantId, sessionId: input.sessionId }), [] as HistoryMessage[]),
  ]);
  const progress: TurnEvent[] = [
    { type: 'step', data: { name: 'lookupExactCache', status: 'completed', ms: steps.lookupExactCache } },
    { type: 'step', data: { name: 'checkInputGuardrails', status: guard.allowed ? 'completed' : 'failed', ms: steps.checkInputGuardrails } },
    { type: 'step', data: { name: 'loadSessionHistory', status: 'completed', ms: steps.loadSessionHistory } },
  ];

  if (!guard.allowed) {
    const result = stamp({
      ...baseResult(),
      answer: BLOCKED_ANSWER,
      cache: 'none',
      intent: 'blocked',
      guardrail: { blocked: true, reasons: guard.reasons, redactions: guard.redactions },
    });
    upsertSearchAttributes([{ key: CacheOutcomeKey, value: 'blocked' }]);
    await orFallback('emitProgress', () => fast.emitTurnEvents({ stream, events: progress }), undefined);
    await deliver(stream, result, true);
    delivered = result;
    await orFallback('persistTurn', () => store.persistTurn(persistInput(input, guard.redactedMessage, result)), undefined);
    return result;
  }
  await orFallback('emitProgress', () => fast.emitTurnEvents({ stream, events: progress }), undefined);

  // 3. Generate, streamed; on failure the fallback branch tries the next provider, then a canned answer.
  const request = {
    stream,
    tenantId: input.tenantId,
    message: guard.redactedMessage,
    history,
    receivedAt: input.receivedAt,
    maxTokens: MAX_TOKENS_BY_COMPLEXITY[complexity],
  };
  let generated: GenerateAnswerOutput | null = null;
  for (const [i, provider] of PROVIDER_ORDER.entries()) {
    const proxy = i === 0 ? llm : llmFallback;
    try {
      generated = await timed('generateAnswer', () => proxy.generateAnswer({ ...request, provider }));
      break;
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('generation failed', { provider, error: String(err) });
      fallbacks.push(`generateAnswer:${provider}`);
    }
  }

  if (!generated) {
    const result = stamp({ ...baseResult(), answer: CANNED_ANSWER, cache: 'none', intent: 'fallback' });
    upsertSearchAttributes([{ key: CacheOutcomeKey, value: 'fallback' }]);
    await deliver(stream, result, true);
    delivered = result;
    // A canned answer is never cached, but the turn is kept so the session reads coherently.
    await orFallback('persistTurn', () => store.persistTurn(persistInput(input, guard.redactedMessage, result)), undefined);
    return result;
  }

  // 4. Output guardrail on the whole answer (the stream was already redacted token by token).
  const out = await orFallback('checkOutputGuardrails', () => fast.checkOutputGuardrails({ answer: generated.answer }), {
    answer: generated.answer,
    redactions: 0,
    violations: [] as string[],
  });
  const result = stamp({
    ...baseResult(),
    answer: out.answer,
    cache: 'none',
    provider: generated.provider,
    model: generated.model,
    usage: generated.usage,
    costUsd: generated.costUsd,
    timings: { totalMs: 0, ttftMs: generated.ttftMs, steps },
    ...(guard.redactions + generated.redactions + out.redactions + out.violations.length > 0
      ? { guardrail: { blocked: out.violations.length > 0, reasons: out.violations, redactions: guard.redactions + out.redactions + generated.redactions } }
      : {}),
  });
  upsertSearchAttributes([{ key: CacheOutcomeKey, value: 'none' }]);

  // 5. Deliver first, then persist and cache: the user never waits for bookkeeping.
  await deliver(stream, result, false);
  delivered = result;
  const cacheable = out.violations.length === 0 && !fallbacks.some((f) => f.startsWith('generateAnswer'));
  await Promise.all([
    orFallback('persistTurn', () => store.persistTurn(persistInput(input, guard.redactedMessage, result)), undefined),
    cacheable
      ? orFallback('writeExactCache', () => fast.writeExactCache({ tenantId: input.tenantId, message: input.message, result }), undefined)
      : Promise.resolve(),
  ]);
  return result;
}

async function deliver(stream: string, result: TurnResult, streamAnswer: boolean): Promise<void> {
  try {
    await fast.finishTurn({ stream, result, streamAnswer });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The stream is unreachable: the result is still the workflow's and GET /v1/turns/:id serves it.
    log.error('could not publish the done event', { error: String(err) });
  }
}

function persistInput(input: ChatTurnInput, redactedMessage: string, result: TurnResult) {
  return { tenantId: input.tenantId, sessionId: input.sessionId, userId: input.userId, redactedMessage, result };
}
