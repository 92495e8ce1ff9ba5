// The SQL agent: slots that name a metric compile to SQL in the product (the semantic layer, no model
// call); otherwise, or when the compiled query fails, the fast model writes SQL from the question, the
// captured slots, the tenant's schema, the business definitions and the closest examples. Either way the
// Postgres parser clears it and it runs read-only as the tenant's reader role; a model's rejected or failed
// query goes back to it, up to N attempts. The rows are streamed as a `sql` event and stored; the workflow
// carries only a reference.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isConnectionError } from '../../infra/db.ts';
import { ZERO_USAGE, type ModelCall } from '../../workflows/shared/contract.ts';
import { FAILURE_TYPES } from '../../workflows/shared/failures.ts';
import type { Slots } from '../../workflows/shared/understanding.ts';
import { slotSignature } from '../../workflows/shared/slot-signature.ts';
import type { ActivityDeps } from '../deps.ts';
import { redactPii } from '../guardrails/rules.ts';
import { priceCall } from '../model-calls.ts';
import { indexSqlExamples, nearestSqlExamples } from './examples.ts';
import { runReadOnly, type QueryResult } from './executor.ts';
import { buildSqlPrompt, extractSql } from './prompts.ts';
import { loadTenantSchema } from './schema.ts';
import { compilable, compileSlotsToSql } from './semantic-layer.ts';
import { guardSql } from './sql-guard.ts';
import { recordTurnQuery } from './turn-queries.ts';

/** A stored result: what the answer and the chart read by reference. */
export interface StoredResult extends QueryResult {
  sql: string;
  /** The query hit the row cap: there may be more rows than shown. */
  capped: boolean;
}

/** What the workflow keeps of the agent's work (no rows: they are stored, by reference). */
export interface SqlAgentOutput {
  resultRef: string;
  sql: string;
  columns: string[];
  rowCount: number;
  capped: boolean;
  /** Model calls it took; more than one means the agent corrected itself (0: compiled). */
  attempts: number;
  /** The semantic layer compiled the query from the slots: no model wrote it. */
  compiled: boolean;
  /** Milliseconds spent per stage, summed over attempts: schema, generate, validate, execute. */
  timings: { schema: number; generate: number; validate: number; execute: number };
  /** The model calls that wrote the SQL. */
  calls: ModelCall[];
}

/** Key of a stored result; tenant-scoped, so a reference can only be read for its own tenant. */
export function resultKey(tenantId: string, ref: string): string {
  return `result:v1:${tenantId}:${ref}`;
}

/** Results stay readable a day (replays of the answer, GET of the turn, charts). */
export const RESULT_TTL_SECONDS = 86_400;
/** Rows the `sql` event carries (the contract: the first 100). */
export const SQL_EVENT_ROWS = 100;

/** Reads a stored result (null when expired or another tenant's). */
export async function readResult(kv: ActivityDeps['kv'], tenantId: string, ref: string): Promise<StoredResult | null> {
  const raw = await kv.get(resultKey(tenantId, ref));
  return raw ? (JSON.parse(raw) as StoredResult) : null;
}

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string };
  return `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`.slice(0, 500);
}

/** The SQL agent activity. */
export function createSqlActivities(deps: Pick<ActivityDeps, 'appDb' | 'tenantDb' | 'kv' | 'providers' | 'embedder' | 'events' | 'settings' | 'prices'>) {
  // The examples are embedded once per process (the start-up warm-up usually did it already).
  let examplesReady: Promise<unknown> | undefined;
  const examplesFor = async (tenantId: string, vector: number[] | undefined, model: string | undefined) => {
    if (!vector || model !== deps.embedder.model) return [];
    examplesReady ??= indexSqlExamples(deps.appDb, deps.embedder).catch((err) => {
      examplesReady = undefined;
      throw err;
    });
    await examplesReady;
    // The built-in examples and the tenant's own (from its users' feedback), never another tenant's.
    return nearestSqlExamples(deps.appDb, { tenantId, embedder: model, vector });
  };
  return {
    /** Writes, validates and runs SQL for an analytics question; self-corrects on rejection or error. */
    async runSqlAgent(input: {
      stream: string;
      tenantId: string;
      question: string;
      slots: Slots;
      today: string;
      timeZone?: string;
      vector?: number[];
      model?: string;
      /** Epoch ms: the data phase's budget. Past it the agent stops (`PhaseDeadlineExceeded`) and the answer goes without data. */
      deadlineAt?: number;
      /** false: the model writes the query even when the slots compile (tenant setting `pipeline.compileSql`). */
      compile?: boolean;
    }): Promise<SqlAgentOutput> {
      const ctx = Context.current();
      const budget = input.deadlineAt !== undefined ? AbortSignal.timeout(Math.max(1, input.deadlineAt - Date.now())) : undefined;
      const signal = budget ? AbortSignal.any([ctx.cancellationSignal, budget]) : ctx.cancellationSignal;
      const calls: ModelCall[] = [];
      const overBudget = () => {
        if (!budget?.aborted || ctx.cancellationSignal.aborted) return;
        throw ApplicationFailure.create({ type: FAILURE_TYPES.phaseDeadline, message: 'the data phase ran out of time', nonRetryable: true, details: [{ calls }] });
      };
      const { sqlMaxAttempts, sqlTimeoutMs, sqlMaxRows, understandingProvider } = deps.settings;
      const provider = deps.providers[understandingProvider];
      if (!provider) throw ApplicationFailure.nonRetryable(`provider ${understandingProvider} is not configured`, FAILURE_TYPES.providerNotConfigured);
      const question = redactPii(input.question).text;
      const timings = { schema: 0, generate: 0, validate: 0, execute: 0 };
      const clock = async <T>(stage: keyof typeof timings, fn: () => Promise<T>): Promise<T> => {
        const t0 = performance.now();
        try {
          return await fn();
        } finally {
          timings[stage] += Math.round(performance.now() - t0);
        }
      };
      // The tenant's database is down or unreachable: no attempt (and no model writing SQL) can help now.
      const throwIfUnavailable = (err: unknown) => {
        if (ctx.cancellationSignal.aborted || !isConnectionError(err)) return;
        overBudget();
        throw ApplicationFailure.create({
          type: FAILURE_TYPES.tenantDataUnavailable,
          message: `the tenant's data cannot be reached right now (${(err as { code?: string }).code ?? (err as Error).message?.slice(0, 80) ?? 'connection error'})`,
          nonRetryable: true,
          details: [{ calls }],
        });
      };
      const statementTimeout = () => (input.deadlineAt !== undefined ? Math.max(100, Math.min(sqlTimeoutMs, input.deadlineAt - Date.now())) : sqlTimeoutMs);
      const compiling = input.compile !== false && compilable(input.slots);
      const [schema, examples] = await clock('schema', () => Promise.all([
        loadTenantSchema(deps, input.tenantId),
        // Compiled queries need no examples; a failed compile embeds them then (rare).
        compiling ? Promise.resolve([]) : examplesFor(input.tenantId, input.vector, input.model),
      ])).catch((err: unknown) => {
        throwIfUnavailable(err);
        throw err;
      });
      let ran: { sql: string; result: QueryResult } | null = null;
      let compiled = false;
      const sqlOfSlots = compiling ? compileSlotsToSql(input.slots, { today: input.today, schema: input.tenantId }) : null;
      if (sqlOfSlots) {
        // The same validator and the same read-only role as a model's query; a failure hands over to the model.
        const guard = await clock('validate', () => guardSql(sqlOfSlots, { tenantSchema: input.tenantId, allowedTables: Object.keys(schema.tables), maxRows: sqlMaxRows }));
        if (guard.ok) {
          try {
            const result = await clock('execute', () => runReadOnly(deps.tenantDb, { tenantId: input.tenantId, sql: guard.sql, timeoutMs: statementTimeout(), timeZone: input.timeZone, signal }));
            ran = { sql: guard.sql, result };
            compiled = true;
          } catch (err) {
            if (ctx.cancellationSignal.aborted) throw err;
            overBudget();
            throwIfUnavailable(err);
            ctx.log.warn('the compiled query failed; the model writes it', { error: errorText(err) });
          }
        } else {
          ctx.log.warn('the compiled query was refused; the model writes it', { reason: guard.reason });
        }
      }
      const modelExamples = ran || !compiling ? examples : await clock('schema', () => examplesFor(input.tenantId, input.vector, input.model));
      let previousError: { sql: string; error: string } | undefined;
      let attempts = 0;
      while (!ran && attempts < sqlMaxAttempts) {
        attempts++;
        const prompt = buildSqlPrompt({ question, tenantSchema: input.tenantId, schemaText: schema.text, slots: input.slots, today: input.today, examples: modelExamples, previousError });
        const t0 = performance.now();
        const reply = await clock('generate', () => provider.complete({ ...prompt, maxTokens: 800, temperature: 0, signal })).catch((err: unknown) => {
          calls.push(priceCall(deps.prices, provider, { step: 'runSqlAgent', provider: understandingProvider, model: provider.models.fast, outcome: budget?.aborted ? 'timeout' : 'failed', startMs: 0, ttftMs: null, ms: Math.round(performance.now() - t0), usage: { ...ZERO_USAGE } }));
          overBudget();
          throw err;
        });
        calls.push(priceCall(deps.prices, provider, { step: 'runSqlAgent', provider: understandingProvider, model: provider.models.fast, reportedModel: reply.model, outcome: 'ok', startMs: 0, ttftMs: null, ms: Math.round(performance.now() - t0), usage: reply.usage }));
        const sql = extractSql(reply.text);
        if (!sql) {
          previousError = { sql: reply.text.slice(0, 300), error: 'the reply contained no SQL query' };
          continue;
        }
        const guard = await clock('validate', () => guardSql(sql, { tenantSchema: input.tenantId, allowedTables: Object.keys(schema.tables), maxRows: sqlMaxRows }));
        if (!guard.ok) {
          previousError = { sql, error: `refused before running: ${guard.reason}` };
          continue;
        }
        try {
          // Never past the phase's budget: the statement timeout is the smaller of the two.
          const result = await clock('execute', () => runReadOnly(deps.tenantDb, { tenantId: input.tenantId, sql: guard.sql, timeoutMs: statementTimeout(), timeZone: input.timeZone, signal }));
          ran = { sql: guard.sql, result };
        } catch (err) {
          if (ctx.cancellationSignal.aborted) throw err;
          overBudget();
          throwIfUnavailable(err);
          previousError = { sql: guard.sql, error: errorText(err) };
        }
        if (previousError && !ran) ctx.log.warn('SQL attempt failed; asking the model to correct it', { attempt: attempts, error: previousError.error });
      }
      if (!ran) {
        throw ApplicationFailure.create({
          type: FAILURE_TYPES.sqlFailed,
          message: `the data could not be retrieved after ${attempts} attempts: ${previousError?.error ?? 'unknown'}`,
          nonRetryable: true,
          details: [{ calls }],
        });
      }
      const { sql, result } = ran;
      const capped = result.rowCount >= sqlMaxRows;
      const workflowId = ctx.info.workflowExecution?.workflowId;
      const ref = `${workflowId ?? 'standalone'}:${ctx.info.activityId}`;
      const stored: StoredResult = { ...result, sql, capped };
      await Promise.all([
        deps.kv.set(resultKey(input.tenantId, ref), JSON.stringify(stored), RESULT_TTL_SECONDS),
        deps.events.publish(input.stream, { type: 'sql', data: { sql, columns: result.columns, rows: result.rows.slice(0, SQL_EVENT_ROWS), rowCount: result.rowCount } }),
        // Kept for feedback on the turn (a thumbs-up makes it an example); never worth failing the turn over.
        workflowId
          ? recordTurnQuery(deps.appDb, { workflowId, tenantId: input.tenantId, signature: slotSignature('analytics', input.slots), sql, compiled }).catch((err: unknown) => {
              ctx.log.warn('could not keep the turn’s query for feedback', { error: errorText(err) });
            })
          : undefined,
      ]);
      return { resultRef: ref, sql, columns: result.columns, rowCount: result.rowCount, capped, attempts, compiled, timings, calls };
    },
  };
}
