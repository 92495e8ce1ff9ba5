import type { Queryable } from '../infra/db.ts';
import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Admission, AdmissionTicket } from '../activities/admission/admission.ts';
import { redactPii } from '../activities/guardrails/rules.ts';
import { loadTenantContext } from '../activities/tenant/store.ts';
import type { CachedAnswer } from '../activities/caches/exact-key.ts';
import { createCachedTurns, type CachedTurns } from './cached-turns.ts';
import { signingEvents, signResult, type ChartUrlSigner } from './chart-urls.ts';
import { embedQuestion, findSemantic } from '../activities/caches/semantic-store.ts';
import { openTurnContext } from '../activities/open-turn/open.ts';
import { answerTokens } from '../activities/turn-events/answer-chunks.ts';
import type { TurnEventBus } from '../activities/turn-events/bus.ts';
import { EVENT_ID_PATTERN } from '../activities/turn-events/bus.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import type { Embedder } from '../infra/llm/embeddings.ts';
import { cachedTurnResult } from '../workflows/shared/cached-result.ts';
import { draftTurnResult } from '../workflows/shared/draft-result.ts';
import { UNCACHEABLE_INTENTS } from '../workflows/shared/tenant-settings.ts';
import { decideSemantic } from '../workflows/turn/semantic.ts';
import type { chatTurn } from '../workflows/chat-turn.ts';
import {
  type ChatTurnInput,
  type PreparedTurn,
  TURN_TASK_QUEUE,
  TURN_WORKFLOW_TASK_TIMEOUT,
  type TurnEvent,
  type TurnResult,
  turnStreamKey,
  turnWorkflowId,
} from '../workflows/shared/contract.ts';
import { turnResultQuery } from '../workflows/shared/messages.ts';
import { SessionIdKey, TenantIdKey } from '../workflows/shared/search-attributes.ts';
import { tenantOf } from './auth.ts';
import { ApiError, isUnavailable } from './errors.ts';
import { createTurnBody, idempotencyKey, TURN_ID_PATTERN } from './schemas.ts';
import { openSse, relay, writeEvent } from './sse.ts';

export interface TurnRoutesDeps {
  temporal: Pick<Client, 'workflow'>;
  events: TurnEventBus;
  appDb: Queryable;
  /** Heartbeat period of idle SSE streams. */
  sseIdleMs?: number;
  /** Task queue the turn workflows go to. */
  taskQueue?: string;
  /** Request eager start (only useful with a client on a worker's connection in this process). */
  eagerStart?: boolean;
  /** The shared cache: with it, the API answers exact-cache hits itself (no Temporal round trip before the answer). */
  kv?: Pick<KvCache, 'get' | 'set'>;
  /** With it (and `kv`), the API answers semantic-cache hits itself too, and hands a miss's search to the workflow. */
  embedder?: Embedder;
  /** Bound of the API's embedding call (EMBEDDING_TIMEOUT_MS). */
  embeddingTimeoutMs?: number;
  /** Admission control: limits checked (and the turn's slots held) before anything else is done for a turn. */
  admission?: Admission;
  /** Stores and records the turns answered from a cache here (default: batches of this router's own). */
  cachedTurns?: CachedTurns;
  /** Signs chart URLs on the way out (events and results keep the unsigned path). */
  chartUrls: ChartUrlSigner;
  /** Counts turns the API answered itself (the workers count the rest). */
  metrics?: { recordTurn(tenantId: string, result: TurnResult): void };
}

/** Tenant settings read without a cache (an API built without one: tests). */
const NO_CACHE = { get: async () => null, set: async () => {} };

/** The shared cache with each key read at most once per request (a request lives milliseconds; a change waits for the next). */
function readOnce(kv: Pick<KvCache, 'get' | 'set'>): Pick<KvCache, 'get' | 'set'> {
  const reads = new Map<string, Promise<string | null>>();
  return {
    get(key) {
      let read = reads.get(key);
      if (!read) reads.set(key, (read = kv.get(key)));
      return read;
    },
    async set(key, value, ttlSeconds) {
      reads.set(key, Promise.resolve(value));
      await kv.set(key, value, ttlSeconds);
    },
  };
}

/** Turn id for an Idempotency-Key: the same tenant and key always name the same turn. */
export function turnIdForKey(tenantId: string, key: string): string {
  return createHash('sha256').update(`${tenantId}\n${key}`).digest('base64url').slice(0, 22);
}

function bodyHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

function links(turnId: string) {
  return { eventsUrl: `/v1/turns/${turnId}/events`, resultUrl: `/v1/turns/${turnId}` };
}


function turnIdParam(req: Request): string {
  const id = String(req.params.turnId ?? '');
  if (!TURN_ID_PATTERN.test(id)) throw new ApiError(404, 'turn_not_found', 'No such turn');
  return id;
}

/** What a route asks to run as a turn: the body of POST /v1/turns, or what a chat completion maps to. */
export interface TurnRequest {
  sessionId: string;
  message: string;
  userId?: string;
  /** The raw `Idempotency-Key` header, when the request carried one (validated here). */
  idempotencyKey?: string;
}

/** A turn on its way: where its events are, and what the route does once it has them. */
export interface BegunTurn {
  turnId: string;
  workflowId: string;
  /** The turn's event stream (read it from `'0'`). */
  stream: string;
  /**
   * Set when the API answered the turn from a cache: stores it and records it in Temporal. Call it once the
   * client has its answer (streamed) or before answering (not streamed), so a GET right after finds the turn.
   */
  record?: () => Promise<void>;
  /** Set for a started (or replayed) turn: on an idle stream, the terminal event of a turn that ended without one. */
  onIdle?: () => Promise<TurnEvent | null>;
}

/** Admits, looks up and starts turns: the one way a route runs a turn (POST /v1/turns, POST /v1/chat/completions). */
export interface TurnStarter {
  /**
   * Admission (429/503 `ApiError`s), the API's cache lookups (a hit is answered on the turn's stream here),
   * then the workflow's start; an `Idempotency-Key` names the turn (the same key and request never run it
   * twice; another request under the key is a 409).
   */
  begin(req: Request, res: Response, turn: TurnRequest): Promise<BegunTurn>;
}

/** The turn machinery the turn routes share. */
export function createTurnStarter(deps: TurnRoutesDeps): TurnStarter {
  const cachedTurns = deps.cachedTurns ?? createCachedTurns({ appDb: deps.appDb, temporal: deps.temporal, taskQueue: deps.taskQueue, eagerStart: deps.eagerStart });

  /** Starts a turn's workflow; the request's hash (not the request) goes in the memo, for idempotency checks. */
  const startTurn = (input: ChatTurnInput, hash?: string) =>
    deps.temporal.workflow.start<typeof chatTurn>('chatTurn', {
      taskQueue: deps.taskQueue ?? TURN_TASK_QUEUE,
      workflowId: turnWorkflowId(input.tenantId, input.turnId),
      args: [input],
      // A key names one turn forever (within retention): a retried POST never runs it twice.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // A worker that dies mid-task costs the user this long, not Temporal's default 10 s.
      workflowTaskTimeout: TURN_WORKFLOW_TASK_TIMEOUT,
      ...(deps.eagerStart ? { requestEagerStart: true } : {}),
      typedSearchAttributes: [
        { key: TenantIdKey, value: input.tenantId },
        { key: SessionIdKey, value: input.sessionId },
      ],
      ...(hash ? { memo: { bodyHash: hash } } : {}),
    });

  return {
    async begin(req, res, turn) {
      const tenantId = tenantOf(req);
      const key = turn.idempotencyKey === undefined ? undefined : idempotencyKey.safeParse(turn.idempotencyKey);
      if (key && !key.success) throw new ApiError(400, 'invalid_idempotency_key', key.error.issues[0]?.message ?? 'invalid Idempotency-Key');
      const turnId = key?.success ? turnIdForKey(tenantId, key.data) : randomUUID();
      const workflowId = turnWorkflowId(tenantId, turnId);
      const stream = turnStreamKey(workflowId);
      // The hash of POST /v1/turns's body, whichever route asked: a key names the same turn on both.
      const hash = bodyHash({ sessionId: turn.sessionId, message: turn.message, userId: turn.userId });
      const input: ChatTurnInput = { turnId, tenantId, sessionId: turn.sessionId, message: turn.message, receivedAt: Date.now() };
      if (turn.userId) input.userId = turn.userId;

      // Admission: the tenant's and key's limits, this process's bound; a refusal costs no lookup, no Temporal call.
      // The turn's slots are freed when its terminal event is written (activities/admission/admission.ts).
      // The tenant's settings are read once per request: admission's read serves the cache lookups too.
      const kv = deps.kv ? readOnce(deps.kv) : undefined;
      let ticket: AdmissionTicket | undefined;
      if (deps.admission) {
        const { settings } = await loadTenantContext(deps.appDb, kv ?? NO_CACHE, tenantId);
        const verdict = await deps.admission.admit({ workflowId, tenantId, keyId: req.keyId ?? 'unknown', limits: settings.limits, turnMs: settings.deadlines.turnMs });
        if (!verdict.ok) {
          const r = verdict.refusal;
          // Server-Timing: how long this process took to refuse (the client also sees its own queueing).
          const ms = typeof res.locals.receivedAt === 'number' ? (performance.now() - res.locals.receivedAt).toFixed(1) : '0';
          throw new ApiError(r.status, r.code, r.message, r.details, { 'Retry-After': String(r.retryAfterSeconds), 'Server-Timing': `admission;dur=${ms}` });
        }
        ticket = verdict.ticket;
      }
      // A turn that does not run after all gives its slots back at once (an Idempotency-Key replay of a running
      // turn holds none of its own: its ticket leaves them to that turn).
      const unadmit = async () => {
        await ticket?.release().catch((err) => req.log?.warn({ err, workflowId }, 'could not free a turn that did not start (its slot lapses after its deadline)'));
      };

      // A cache hit is answered here, before and beside the workflow that records it: a hit must not wait
      // for a workflow task (tens of ms). With an Idempotency-Key the workflow start decides first whether
      // this turn already ran, so those requests take the normal path.
      const looked = !key && kv ? await prepareTurn({ ...deps, kv }, input, workflowId, req.log).catch(async (err) => {
        await unadmit();
        throw err;
      }) : null;
      if (looked && 'prepared' in looked) input.prepared = looked.prepared;
      if (looked && 'answered' in looked) {
        const answered = looked.answered;
        // Stored by the route's call, recorded in Temporal with the API's other hits of the moment (api/cached-turns.ts).
        const record = () =>
          cachedTurns
            .record({ tenantId, sessionId: turn.sessionId, ...(turn.userId ? { userId: turn.userId } : {}), redactedMessage: redactPii(input.message).text, result: answered, cache: answered.cache === 'semantic' ? 'semantic' : 'exact' })
            .catch((err) => {
              req.log?.error({ err, turnId }, 'could not store a cache hit (the answer was delivered)');
            });
        return { turnId, workflowId, stream, record };
      }

      try {
        await startTurn(input, hash);
        req.log?.debug({ turnId, workflowId, idempotent: Boolean(key) }, 'turn started');
      } catch (err) {
        // The turn does not run after all (or ran before, under this Idempotency-Key): its slots go back.
        await unadmit();
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const desc = await deps.temporal.workflow.getHandle(workflowId).describe();
        if (desc.memo?.bodyHash !== hash) {
          throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request body');
        }
        req.log?.info({ turnId, workflowId }, 'idempotent replay of an existing turn');
      }
      return { turnId, workflowId, stream, onIdle: endedWithoutEvent(deps, workflowId) };
    },
  };
}

/** POST /v1/turns, GET /v1/turns/:turnId/events, GET /v1/turns/:turnId. */
export function turnRoutes(deps: TurnRoutesDeps, turns: TurnStarter = createTurnStarter(deps)): Router {
  const router = Router();

  router.post('/v1/turns', async (req, res) => {
    const tenantId = tenantOf(req);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const body = createTurnBody.parse(req.body ?? {});
    const turn = await turns.begin(req, res, { ...body, idempotencyKey: req.get('idempotency-key') });
    const ids = { turnId: turn.turnId, workflowId: turn.workflowId, ...links(turn.turnId) };
    if (req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream') {
      openSse(res);
      // A cache hit is recorded once the client has its `done` (nothing in the way of the answer), and before
      // the stream ends, so a GET right after it finds the turn.
      const after = turn.record ? { afterTerminal: turn.record } : { onIdle: turn.onIdle };
      await relay(req, res, { events: signingEvents(deps.events, deps.chartUrls, tenantId), stream: turn.stream, afterId: '0', idleMs: deps.sseIdleMs, ...after });
      return;
    }
    // A cache hit is recorded before the 202, so GET /v1/turns/:id finds the turn at once.
    await turn.record?.();
    res.status(202).location(ids.resultUrl).json(ids);
  });

  router.get('/v1/turns/:turnId/events', async (req, res) => {
    const tenantId = tenantOf(req);
    const turnId = turnIdParam(req);
    const workflowId = turnWorkflowId(tenantId, turnId);
    const stream = turnStreamKey(workflowId);
    const lastEventId = req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    if (lastEventId !== undefined && !EVENT_ID_PATTERN.test(lastEventId)) {
      throw new ApiError(400, 'invalid_last_event_id', 'Last-Event-ID must be an id this stream sent');
    }
    // Unknown while the event bus is unreachable: then the turn's status decides, and a running turn's
    // stream is relayed with heartbeats until the bus is back.
    const exists = await deps.events.exists(stream).catch((err: unknown) => {
      req.log?.warn({ err }, 'could not tell whether the turn’s stream exists (is Redis down?)');
      return null;
    });
    if (exists !== true) {
      // No stream yet (a turn that has only just started), an expired one (a finished turn), no such turn, or
      // Redis unreachable: a finished turn's result comes from the stored turn.
      const status = await workflowStatus(deps, workflowId);
      if (status === null) throw new ApiError(404, 'turn_not_found', 'No such turn');
      if (status !== 'RUNNING') {
        const result = await finishedResult(deps, tenantId, turnId, workflowId);
        openSse(res);
        writeEvent(res, { type: 'turn', data: { turnId, workflowId } });
        writeEvent(res, result ? { type: 'done', data: signResult(deps.chartUrls, tenantId, result) } : { type: 'error', data: endedStatus(status).error });
        res.end();
        return;
      }
    }
    openSse(res);
    await relay(req, res, { events: signingEvents(deps.events, deps.chartUrls, tenantId), stream, afterId: lastEventId ?? '0', idleMs: deps.sseIdleMs, onIdle: endedWithoutEvent(deps, workflowId) });
  });

  router.get('/v1/turns/:turnId', async (req, res) => {
    const tenantId = tenantOf(req);
    const turnId = turnIdParam(req);
    const workflowId = turnWorkflowId(tenantId, turnId);
    const result = await finishedResult(deps, tenantId, turnId, workflowId);
    if (result) {
      res.json(signResult(deps.chartUrls, tenantId, result));
      return;
    }
    const status = await workflowStatus(deps, workflowId);
    if (status === null) throw new ApiError(404, 'turn_not_found', 'No such turn');
    if (status === 'RUNNING') {
      res.status(202).json({ turnId, workflowId, status: 'running', ...links(turnId) });
      return;
    }
    // Ended without an answer (failed, cancelled, terminated, timed out): say so, never "running".
    const ended = endedStatus(status);
    res.json({ turnId, workflowId, status: ended.status, error: ended.error, ...links(turnId) });
  });

  return router;
}

/** How a turn that ended without an answer is reported: its status and the `error` object of its stream. */
export function endedStatus(workflowStatusName: string): { status: string; error: { code: string; message: string } } {
  const status = workflowStatusName.toLowerCase();
  if (status === 'canceled' || status === 'cancelled') return { status: 'cancelled', error: { code: 'cancelled', message: 'The turn was cancelled' } };
  return { status, error: { code: 'turn_failed', message: `The turn ended without an answer (${status.replace(/_/g, ' ')})` } };
}

/** The workflow's status name (RUNNING, COMPLETED, FAILED, ...), or null when there is no such workflow. */
export async function workflowStatus(deps: Pick<TurnRoutesDeps, 'temporal'>, workflowId: string): Promise<string | null> {
  try {
    return (await deps.temporal.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** The turn's result: the app store first (outlives workflow retention), then the workflow itself. */
async function finishedResult(deps: TurnRoutesDeps, tenantId: string, turnId: string, workflowId: string): Promise<TurnResult | null> {
  const { rows } = await deps.appDb.query<{ result: TurnResult }>('SELECT result FROM turns WHERE tenant_id = $1 AND turn_id = $2', [tenantId, turnId]);
  if (rows[0]) return rows[0].result;
  const handle = deps.temporal.workflow.getHandle<typeof chatTurn>(workflowId);
  try {
    const desc = await handle.describe();
    if (desc.status.name === 'COMPLETED') return await handle.result();
    if (desc.status.name === 'RUNNING') return await handle.query(turnResultQuery);
    return null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    if (isUnavailable(err)) throw err;
    return null;
  }
}

/** On an idle stream: a workflow that closed without a terminal event gets one (its result, or an `error`). */
function endedWithoutEvent(deps: TurnRoutesDeps, workflowId: string): () => Promise<TurnEvent | null> {
  return async () => {
    try {
      const handle = deps.temporal.workflow.getHandle<typeof chatTurn>(workflowId);
      const status = (await handle.describe()).status.name;
      if (status === 'RUNNING') return null;
      // Finished but its `done` never reached the stream (the stream was unreachable then): send the result.
      if (status === 'COMPLETED') return { type: 'done', data: await handle.result() };
      return { type: 'error', data: endedStatus(status).error };
    } catch {
      return null;
    }
  };
}

/** What the API's lookups made of a turn: answered from a cache, or what the workflow is spared looking up again. */
type Prepared = { answered: TurnResult } | { prepared: PreparedTurn } | null;

/**
 * The turn's cache lookups, made here so a hit never waits for a workflow: the workflow's own first step
 * (tenant settings, a follow-up's inherited slots, the rules' slot signature, the exact cache), then the
 * semantic cache decided on the rules' signature. A hit streams the turn's whole stream at once (turn, steps,
 * the answer in chunks, one `done`); a miss hands what was found to the workflow (`prepared`), which does
 * not look again. Null when the lookup failed: the workflow looks itself.
 */
async function prepareTurn(deps: TurnRoutesDeps, input: ChatTurnInput, workflowId: string, log?: Request['log']): Promise<Prepared> {
  const t0 = performance.now();
  let opened;
  try {
    opened = await openTurnContext({ appDb: deps.appDb, kv: deps.kv!, now: Date.now }, input);
  } catch (err) {
    // The workflow looks again (with retries); the API's shortcut must never fail a turn.
    log?.warn({ err }, 'cache lookup in the API failed; the workflow will look');
    return null;
  }
  const lookupMs = Math.round(performance.now() - t0);
  const stream = turnStreamKey(workflowId);
  if (opened.hit) return { answered: await deliverCached(deps, input, workflowId, opened.language, opened.hit, 'exact', { lookupExactCache: lookupMs }) };

  const settings = opened.tenant.settings;
  let semantic: PreparedTurn['semantic'];
  // The question is embedded only now: an exact hit (a millisecond's lookup) or a tenant without the semantic
  // cache never pays for an embedding call (the workflow embeds for retrieval itself when it needs one).
  if (deps.embedder && settings.semanticCache.enabled) {
    try {
      const vector = await embedQuestion(deps.embedder, input.message, AbortSignal.timeout(deps.embeddingTimeoutMs ?? 2000));
      const candidates = await findSemantic(deps.appDb, {
        tenantId: input.tenantId,
        generation: opened.tenant.generation,
        embedder: deps.embedder.model,
        vector,
        threshold: settings.semanticCache.threshold,
        suggestThreshold: settings.semanticCache.suggestThreshold,
      });
      semantic = { vector, model: deps.embedder.model, candidates, ms: Math.round(performance.now() - t0) };
    } catch (err) {
      log?.warn({ err }, 'semantic lookup in the API failed; the turn goes on without it');
      semantic = null;
    }
    const rules = opened.rules;
    if (semantic && rules && settings.semanticCache.decideEarly && !UNCACHEABLE_INTENTS.includes(rules.intent)) {
      const { hit } = decideSemantic(semantic.candidates, rules.signature, settings.semanticCache.threshold);
      if (hit) {
        const steps = { lookupExactCache: lookupMs, searchSemanticCache: semantic.ms };
        return { answered: await deliverCached(deps, input, workflowId, opened.language, hit, 'semantic', steps, hit.similarity) };
      }
    }
  }
  // The workflow skips its first step: the `turn` event is published here, before it starts.
  await deps.events.publish(stream, { type: 'turn', data: { turnId: input.turnId, workflowId } });
  return { prepared: { opened, lookupMs, ...(semantic !== undefined ? { semantic } : {}) } };
}

/** A cache hit's whole stream at once: turn, steps, the answer in chunks, then the one `done`. */
async function deliverCached(
  deps: TurnRoutesDeps,
  input: ChatTurnInput,
  workflowId: string,
  language: string,
  hit: CachedAnswer,
  cache: 'exact' | 'semantic',
  steps: Record<string, number>,
  similarity?: number,
): Promise<TurnResult> {
  const base = draftTurnResult({ turnId: input.turnId, workflowId, language, steps });
  const result = cachedTurnResult(base, hit, cache, Math.max(0, Date.now() - input.receivedAt), similarity);
  const stream = turnStreamKey(workflowId);
  // Appended in call order on one connection; the terminal event last, by the one-terminal-event script.
  await Promise.all([
    deps.events.publish(stream, { type: 'turn', data: { turnId: input.turnId, workflowId } }),
    ...Object.entries(steps).map(([name, ms]) => deps.events.publish(stream, { type: 'step', data: { name, status: 'completed', ms } })),
    ...answerTokens(result.answer).map((token) => deps.events.publish(stream, token)),
  ]);
  await deps.events.publishTerminal(stream, { type: 'done', data: result });
  deps.metrics?.recordTurn(input.tenantId, result);
  return result;
}
