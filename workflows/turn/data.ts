// Phase 4's two steps: the SQL agent for analytics and the tenant's documents for policy questions, each
// bounded by the data phase's deadline, each a fallback (no data, no documents) when it fails. Started on
// the rules' route beside the model's understanding, or on the final route after it.
import type { SqlAgentOutput } from '../../activities/sql/activities.ts';
import type { RetrievedChunk } from '../../activities/knowledge/store.ts';
import type { Turn } from './context.ts';
import { retrieval, sqlAgent, sqlAgentBeside } from './proxies.ts';
import type { Route } from './route.ts';

/** The question's embedding, when the semantic search computed one (examples and retrieval reuse it). */
export type Similar = { vector: number[]; model: string } | Record<string, never>;

/**
 * Runs the SQL agent for a route that wants data; null when it failed (recorded as a fallback). `beside`:
 * as a regular activity, so that a model writing SQL does not hold the workflow task (and what waits on it).
 */
export async function fetchData(turn: Turn, route: Route, similar: Similar, deadlineAt: number, beside = false): Promise<SqlAgentOutput | null> {
  const { input } = turn;
  const opened = turn.opened!;
  const agent = beside ? sqlAgentBeside : sqlAgent;
  const data = await turn.orFallback(
    'runSqlAgent',
    () =>
      agent.runSqlAgent({
        stream: turn.stream,
        tenantId: input.tenantId,
        question: turn.redactedMessage,
        slots: route.slots,
        today: opened.tenant.today,
        timeZone: opened.tenant.timeZone,
        deadlineAt,
        // The tenant may have the model write every query (`pipeline.compileSql: false`).
        compile: opened.tenant.settings.pipeline?.compileSql !== false,
        ...similar,
      }),
    null,
  );
  turn.step('runSqlAgent', data ? 'completed' : 'failed');
  turn.addCalls(data?.calls);
  // The agent's stages and its self-corrections, for `done.timings.steps` and the operator.
  if (data) for (const [stage, ms] of Object.entries(data.timings)) turn.steps[`runSqlAgent.${stage}`] = ms;
  if (data && data.attempts > 1) turn.steps['runSqlAgent.attempts'] = data.attempts;
  if (data?.compiled) turn.steps['runSqlAgent.compiled'] = 1;
  return data;
}

/** Retrieves the passages of a route that wants documents; null when retrieval failed (a fallback). */
export async function fetchDocs(turn: Turn, route: Route, similar: Similar, deadlineAt: number): Promise<{ chunks: RetrievedChunk[] } | null> {
  const { input } = turn;
  const docs = await turn.orFallback(
    'retrieveKnowledge',
    () =>
      retrieval.retrieveKnowledge({
        tenantId: input.tenantId,
        generation: turn.opened!.tenant.generation,
        question: turn.redactedMessage,
        topK: route.effort.topK,
        deadlineAt,
        ...(route.slots.topic ? { topic: route.slots.topic } : {}),
        ...similar,
      }),
    null,
  );
  turn.step('retrieveKnowledge', docs ? 'completed' : 'failed');
  return docs;
}
