// Types and names shared by the API, the workers and the workflow sandbox.
// This file must import nothing from Node, infra/ or api/: it is bundled into workflow code.
import type { SemanticCandidate } from '../../activities/caches/semantic-store.ts';
import type { OpenTurnOutput } from '../../activities/open-turn/open.ts';
import type { Complexity, IntentOrUnknown, ReconcileReason, Slots } from './understanding.ts';

export type { Complexity } from './understanding.ts';

/** Task queue every chat-turn worker polls. */
export const TURN_TASK_QUEUE = 'chat-turns';

/**
 * How long a dead worker can hold a turn, sized for chat (a user sees the pause): the workflow task
 * timeout (a task whose worker died mid-task is handed to another), set when the turn starts, and the
 * answer activity's heartbeat timeout (it heartbeats every 400 ms and the worker sends each one, so a live
 * worker has 2.5 beats of slack under load; one taken for dead by mistake costs a pause, not the text:
 * the next attempt continues the answer). The worker's sticky-queue timeout (workers/runtime.ts) moves a
 * dead worker's next task to the shared queue. Temporal's defaults are 10 s.
 */
export const TURN_WORKFLOW_TASK_TIMEOUT = '2 seconds';
export const ANSWER_HEARTBEAT_TIMEOUT = '1 second';
export const STICKY_QUEUE_TIMEOUT = '500 ms';

/** Search attributes a turn carries so operators can find it in the Web UI. */
export const SEARCH_ATTRIBUTES = {
  tenantId: 'TenantId',
  sessionId: 'SessionId',
  cacheOutcome: 'CacheOutcome',
  intent: 'Intent',
  fallbackUsed: 'FallbackUsed',
} as const;

/** What a tenant id may be (also its schema and role names; the `tenants` table checks the same). */
export const TENANT_ID_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** Workflow id of a turn: the tenant is part of it, so one tenant can never address another's turn. */
export function turnWorkflowId(tenantId: string, turnId: string): string {
  return `turn-${tenantId}-${turnId}`;
}

/** Redis key (or in-process name) of a turn's event stream; the braces keep a turn's keys in one cluster slot. */
export function turnStreamKey(workflowId: string): string {
  return `turn:{${workflowId}}:events`;
}

/** The stream a speculative answer waits on for the workflow's verdict (never relayed to a client). */
export function turnGateKey(workflowId: string): string {
  return `turn:{${workflowId}}:gate`;
}

/**
 * The workflow's verdict on a speculative answer: `release` its held tokens (with the turn's result so far,
 * which its `done` completes, and the step events queued since it started), or discard it.
 */
export interface GateVerdict {
  release: boolean;
  draft?: TurnResult;
  progress?: TurnEvent[];
}

/** A control event on a turn's gate stream. */
export interface GateEvent {
  type: 'gate';
  data: GateVerdict;
}

/** Input of the `chatTurn` workflow. */
export interface ChatTurnInput {
  turnId: string;
  tenantId: string;
  sessionId: string;
  userId?: string;
  message: string;
  /** Epoch ms at which the API accepted the request; timings are measured from here. */
  receivedAt: number;
  /**
   * The API already answered the turn (a cache hit, streamed before any workflow task could run): the
   * workflow only records it (search attributes, the Web UI, the stored turn).
   */
  delivered?: TurnResult;
  /**
   * What the API learnt looking up the caches before it started the turn, so the workflow does not do it
   * again: the turn's first step (tenant settings, the rules' reading, the exact-cache key; the `turn` event
   * is published) and the semantic search (absent: the workflow searches; null: it failed).
   */
  prepared?: PreparedTurn;
}

/**
 * Input of `recordCachedTurns`: turns one API process answered from a cache and stored itself, recorded in
 * Temporal together (one workflow per tenant, cache and batch window) instead of one workflow each.
 */
export interface CachedTurnsRecord {
  tenantId: string;
  cache: 'exact' | 'semantic';
  turns: { turnId: string; sessionId: string; intent: string; similarity?: number; totalMs: number; at: number }[];
}

/** The API's lookups before a turn's workflow starts (see `ChatTurnInput.prepared`). */
export interface PreparedTurn {
  opened: OpenTurnOutput;
  lookupMs: number;
  semantic?: { vector: number[]; model: string; candidates: SemanticCandidate[]; ms: number } | null;
}

export type CacheOutcome = 'exact' | 'semantic' | 'none';
export type StepStatus = 'started' | 'completed' | 'failed' | 'skipped';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

/**
 * How one model call of a turn ended. `ok`: a call that was not raced (capture, detect, SQL). In the
 * answer's race: `won` produced the first content token and streamed the answer; `lost` was cancelled
 * because another won; `failed` errored (HTTP error, broken stream); `timeout` produced no token before
 * the turn's deadline; `stalled` went quiet mid-answer and was replaced by a `continuation` call, which
 * carried on from the text already streamed. A speculative answer (started on the rules' reading while the
 * model read the question) ends `speculative-won` when the model agreed and its tokens were released, its
 * other calls `speculative-discarded`, as are all of them when the model disagreed.
 */
export type ModelCallOutcome = 'ok' | 'won' | 'lost' | 'failed' | 'timeout' | 'stalled' | 'continuation' | 'cancelled' | 'speculative-won' | 'speculative-discarded';

/** One model call a turn made: what it cost and how it went (stats, metrics and `done.calls`). */
export interface ModelCall {
  /** The turn step that made it: captureSlots, detectIntent, reconcileIntent, runSqlAgent, generateAnswer. */
  step: string;
  provider: string;
  /** The model asked for (the provider may report another, e.g. the offline model). */
  model: string;
  outcome: ModelCallOutcome;
  /** HTTP status of a failed call, when there was one. */
  status?: number;
  /** The provider's Retry-After on a failure: it is started last until then, and a retry waits at least this long. */
  retryAfterMs?: number;
  /** Start of the call, in ms after its step started (a hedged call starts after the hedge delay). */
  startMs: number;
  /** From the call's start to its first content token; null when none came. */
  ttftMs: number | null;
  /** From the call's start to its end (or its cancellation). */
  ms: number;
  /** Billed tokens; for a cancelled call, what it had used when it was stopped (output estimated from the text received). */
  usage: Usage;
  /** What the call cost at the price of the model that answered (the offline model costs nothing). */
  costUsd: number;
  /** The same tokens at the list price of the model asked for: what the call would cost on that model. */
  listCostUsd: number;
}

/** Usage and cost of a set of model calls (sums; costs rounded to a billionth of a dollar). */
export function callTotals(calls: readonly ModelCall[]): { usage: Usage; costUsd: number; listCostUsd: number } {
  const round = (n: number) => Math.round(n * 1e9) / 1e9;
  return {
    usage: calls.reduce((u, c) => addUsage(u, c.usage), { ...ZERO_USAGE }),
    costUsd: round(calls.reduce((s, c) => s + c.costUsd, 0)),
    listCostUsd: round(calls.reduce((s, c) => s + c.listCostUsd, 0)),
  };
}

/** Sums usages. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

/** Payload of the `done` event, the workflow's result and the body of GET /v1/turns/:id. */
export interface TurnResult {
  turnId: string;
  workflowId: string;
  answer: string;
  cache: CacheOutcome;
  similarity?: number;
  /** A cached question close to this one (similarity between the suggest threshold and the hit threshold): "did you mean …?". */
  suggestion?: string;
  /** `unknown` until something is detected (a cache hit carries the cached turn's intent). */
  intent: IntentOrUnknown;
  complexity: Complexity;
  slots: Slots;
  /** How the turn was understood: detect confidence, language, whether detect was reconciled, model or rules. */
  understanding?: {
    confidence: number;
    language: string;
    reconciled: boolean;
    reconcileReasons: ReconcileReason[];
    source: { capture: 'model' | 'rules' | 'none'; detect: 'model' | 'rules' | 'none' };
  };
  provider?: string;
  model?: string;
  /** Tokens of every model call of the turn (understanding, SQL, the answer and its race's losers). */
  usage: Usage;
  /** What the turn's model calls cost (sum of `calls[].costUsd`). */
  costUsd: number;
  /** The same tokens at the list prices of the models asked for (sum of `calls[].listCostUsd`). */
  listCostUsd?: number;
  /** Every model call of the turn, in the order they started. */
  calls?: ModelCall[];
  /** How the answer was generated: providers raced, hedge delay, tier, failovers. */
  generation?: GenerationSummary;
  timings: { totalMs: number; ttftMs: number | null; steps: Record<string, number> };
  fallbacks: string[];
  guardrail?: { blocked: boolean; reasons: string[]; redactions: number; failOpen?: boolean };
  /** The chart of an analytics answer (also sent as the `chart` event). */
  chart?: { id: string; svgUrl: string; pngUrl: string };
  /** The tenant's documents the answer drew on (knowledge questions). */
  sources?: { slug: string; title: string }[];
  /** Set when the turn ended with an `error` event instead of `done` (e.g. `content_policy`). */
  error?: { code: string; message: string };
}

/** How the answer was generated (`done.generation`). */
export interface GenerationSummary {
  /** Providers in the order they were started (or would have been). */
  providers: string[];
  /** `race`: hedged racing on first token; `single`: one provider, the next only after it failed. */
  strategy: 'race' | 'single';
  /** Delay before the next provider was started (null: never hedged). */
  hedgeDelayMs: number | null;
  tier: 'fast' | 'strong';
  /** The provider whose first token won (null: none produced one). */
  winner: string | null;
  /** Stall or mid-stream failovers that continued the answer on another provider. */
  failovers: number;
  /** Temporal attempts of the answer activity (retries after every provider failed). */
  attempts: number;
}

/** Events of a turn's stream, relayed as SSE (`event:` = type). */
export type TurnEvent =
  | { type: 'turn'; data: { turnId: string; workflowId: string } }
  | { type: 'step'; data: { name: string; status: StepStatus; ms?: number; attempt?: number; reason?: string } }
  | { type: 'token'; data: { text: string; attempt?: number; /** Where `text` starts in the answer (characters): a token already had is recognised. */ at?: number } }
  | { type: 'sql'; data: { sql: string; columns: string[]; rows: unknown[][]; rowCount: number } }
  | { type: 'chart'; data: { id: string; svgUrl: string; pngUrl: string; spec: object } }
  | { type: 'done'; data: TurnResult }
  | { type: 'error'; data: { code: string; message: string } };

export type TurnEventType = TurnEvent['type'];

/** A turn event with its position in the stream (the SSE `id:`). */
export type StoredTurnEvent = TurnEvent & { id: string };

export function isTerminal(event: Pick<TurnEvent, 'type'>): boolean {
  return event.type === 'done' || event.type === 'error';
}

/** One message of a session's history, as the model sees it. */
export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}
