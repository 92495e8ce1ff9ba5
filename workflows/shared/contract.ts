// Types and names shared by the API, the workers and the workflow sandbox.
// This file must import nothing from Node, infra/ or api/: it is bundled into workflow code.
import type { Complexity, IntentOrUnknown, ReconcileReason, Slots } from './understanding.ts';

export type { Complexity } from './understanding.ts';

/** Task queue every chat-turn worker polls. */
export const TURN_TASK_QUEUE = 'chat-turns';

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

/** Input of the `chatTurn` workflow. */
export interface ChatTurnInput {
  turnId: string;
  tenantId: string;
  sessionId: string;
  userId?: string;
  message: string;
  /** Epoch ms at which the API accepted the request; timings are measured from here. */
  receivedAt: number;
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
  usage: Usage;
  costUsd: number;
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

/** Events of a turn's stream, relayed as SSE (`event:` = type). */
export type TurnEvent =
  | { type: 'turn'; data: { turnId: string; workflowId: string } }
  | { type: 'step'; data: { name: string; status: StepStatus; ms?: number; attempt?: number; reason?: string } }
  | { type: 'token'; data: { text: string; attempt?: number } }
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
