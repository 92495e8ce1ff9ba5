// The one log line of a finished turn, at info level: what an operator reads in `npm start`'s terminal or
// searches for in a log store. Written where the turn is counted in the metrics (once per turn: by the process
// that wrote its terminal event). Ids, outcome and figures only: never the question or the answer.
import type { TurnResult } from '../workflows/shared/contract.ts';
import type { Logger } from './logger.ts';

/** The structured fields of a turn's line. */
export function turnLogFields(tenant: string, r: TurnResult) {
  return {
    tenant,
    turnId: r.turnId,
    workflowId: r.workflowId,
    intent: r.intent,
    cache: r.cache,
    ms: r.timings?.totalMs,
    ttftMs: r.timings?.ttftMs ?? null,
    costUsd: r.costUsd,
    ...(r.provider ? { provider: r.provider } : {}),
    ...(r.fallbacks?.length ? { fallbacks: r.fallbacks } : {}),
    ...(r.error ? { error: r.error.code } : {}),
  };
}

const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

/** The sentence a person reads: `turn acme/3f2a… analytics, cache none, 1.84 s (first token 412 ms), $0.000123 via anthropic`. */
export function turnLogSentence(tenant: string, r: TurnResult): string {
  const parts = [`turn ${tenant}/${r.turnId.slice(0, 8)} ${r.error ? `${r.error.code}` : r.intent}`, `cache ${r.cache}`];
  if (typeof r.timings?.totalMs === 'number') {
    parts.push(`${seconds(r.timings.totalMs)}${typeof r.timings.ttftMs === 'number' ? ` (first token ${seconds(r.timings.ttftMs)})` : ''}`);
  }
  parts.push(`$${(r.costUsd ?? 0).toFixed(6)}${r.provider && r.cache === 'none' ? ` via ${r.provider}` : ''}`);
  if (r.fallbacks?.length) parts.push(`fallbacks ${r.fallbacks.join(' ')}`);
  return parts.join(', ');
}

/**
 * Writes the turn's line; a logging failure never reaches the turn. The fields go under `turn`, which a pretty
 * (terminal) line leaves out: there the sentence says it all.
 */
export function logTurn(log: Logger, tenant: string, r: TurnResult): void {
  try {
    log.info({ turn: turnLogFields(tenant, r) }, turnLogSentence(tenant, r));
  } catch {
    // Logs never fail a turn.
  }
}
