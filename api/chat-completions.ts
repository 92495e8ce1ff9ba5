// OpenAI-compatible Chat Completions: POST /v1/chat/completions (streamed and not) and GET /v1/models, so the
// official SDKs and OpenAI-protocol chat front ends talk to the product. A request is one turn, run by the same
// machinery as POST /v1/turns (api/turns.ts); its events are read as the SSE relay reads them (api/sse.ts) and
// written as chat completion chunks. Errors on these paths are in OpenAI's shape (`openAiErrorHandler`).
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import type { TurnEventBus } from '../activities/turn-events/bus.ts';
import type { Logger } from '../infra/logger.ts';
import type { TurnResult } from '../workflows/shared/contract.ts';
import { tenantOf } from './auth.ts';
import {
  absoluteUrl,
  type AnswerExtras,
  completion,
  type CompletionMeta,
  contentChunk,
  DEFAULT_MODEL,
  errorChunk,
  extrasMarkdown,
  finishChunk,
  finishReasonOf,
  openAiErrorOf,
  OpenAiError,
  parseChatRequest,
  roleChunk,
  sessionFor,
  turnErrorOf,
  usageChunk,
} from './chat-completions-format.ts';
import { signingEvents, type ChartUrlSigner } from './chart-urls.ts';
import { ApiError, toApiError } from './errors.ts';
import { openEventStream, readTurn, writeFrame } from './sse.ts';
import type { BegunTurn, TurnStarter } from './turns.ts';
import { ZERO_USAGE } from '../workflows/shared/contract.ts';

/** The paths whose errors are in OpenAI's shape. */
export const OPENAI_PATHS = ['/v1/chat/completions', '/v1/models'];

export interface ChatCompletionRoutesDeps {
  events: TurnEventBus;
  chartUrls: ChartUrlSigner;
  /** The turn machinery POST /v1/turns runs on. */
  turns: TurnStarter;
  /** Heartbeat period of an idle stream (once its headers are out). */
  sseIdleMs?: number;
  /** The API's public origin (PUBLIC_URL); absent: the request's own scheme and host. */
  publicUrl?: string;
}

/** Response headers a browser's script may read on these paths (the turn's ids, a refusal's wait). */
const EXPOSED_HEADERS = 'X-Turn-Id, X-Workflow-Id, X-Session-Id, X-Request-Id, Retry-After';

/**
 * CORS for chat front ends that call the API from the browser (CHAT_CORS_ORIGINS): a listed origin gets the
 * preflight answered (before the API key, which a preflight never carries) and may read the responses; any
 * other origin gets no CORS header, so its browser keeps the response from its script. The key still
 * authenticates every request; only the Authorization header is sent, never a cookie.
 */
export function chatCompletionCors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (!origin || !allowed.has(origin)) {
      if (origin) res.vary('Origin');
      if (req.method === 'OPTIONS') return void res.status(204).end();
      return next();
    }
    res.vary('Origin').set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSED_HEADERS });
    if (req.method !== 'OPTIONS') return next();
    // The SDKs send headers of their own (x-stainless-*): the ones asked for are allowed, the key decides the rest.
    const asked = req.get('access-control-request-headers');
    res.set({
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': asked && /^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$/.test(asked) ? asked : 'Authorization, Content-Type',
      'Access-Control-Max-Age': '600',
    });
    res.status(204).end();
  };
}

/** When GET /v1/models says the one model was created: the day this endpoint was (it never changes). */
const MODEL_CREATED = 1_796_428_800;

/** POST /v1/chat/completions, GET /v1/models. */
export function chatCompletionRoutes(deps: ChatCompletionRoutesDeps): Router {
  const router = Router();

  // Front ends list the models first; there is one: the product picks providers and models itself.
  const model = { id: DEFAULT_MODEL, object: 'model', created: MODEL_CREATED, owned_by: 'turnflow' };
  router.get('/v1/models', (req, res) => {
    tenantOf(req);
    res.json({ object: 'list', data: [model] });
  });
  router.get('/v1/models/:model', (req, res) => {
    tenantOf(req);
    if (req.params.model !== DEFAULT_MODEL) throw new OpenAiError(404, 'invalid_request_error', 'model_not_found', `The model ${JSON.stringify(req.params.model)} does not exist; the one model is ${DEFAULT_MODEL}`, 'model');
    res.json(model);
  });

  router.post('/v1/chat/completions', async (req, res) => {
    const tenantId = tenantOf(req);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const chat = parseChatRequest(req.body);
    const sessionId = sessionFor(req.get('x-session-id'), chat.user, req.keyId ?? 'unknown');
    const turn = await deps.turns.begin(req, res, { sessionId, message: chat.message, ...(chat.user !== undefined ? { userId: chat.user } : {}), idempotencyKey: req.get('idempotency-key') });
    res.set({ 'X-Turn-Id': turn.turnId, 'X-Workflow-Id': turn.workflowId, 'X-Session-Id': sessionId });
    const reading: Reading = {
      req,
      res,
      turn,
      events: signingEvents(deps.events, deps.chartUrls, tenantId),
      idleMs: deps.sseIdleMs,
      meta: { id: `chatcmpl-${turn.turnId}`, created: Math.floor(Date.now() / 1000), model: chat.model },
      messageIndex: chat.messageIndex,
      // Chart links must work outside this API's pages: absolute, on the public origin or the host the client called.
      origin: deps.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`,
    };
    if (chat.stream) await streamCompletion(reading, chat.includeUsage);
    else await answerCompletion(reading);
  });

  return router;
}

/** One completion's turn and where it goes. */
interface Reading {
  req: Request;
  res: Response;
  turn: BegunTurn;
  /** The bus as this tenant reads it (chart URLs signed). */
  events: TurnEventBus;
  idleMs?: number;
  meta: CompletionMeta;
  messageIndex: number;
  origin: string;
}

/** What the stream brought besides the text, until `done` completes it. */
function extrasOf(origin: string, sql: AnswerExtras['sql'], chart: { pngUrl: string } | undefined, done: TurnResult): AnswerExtras {
  const png = chart?.pngUrl ?? done.chart?.pngUrl;
  return { ...(sql ? { sql } : {}), ...(png ? { chartUrl: absoluteUrl(origin, png) } : {}), ...(done.sources?.length ? { sources: done.sources } : {}) };
}

/** The text after the answer: a blank line, then the data and sources in Markdown (nothing when there are none). */
function afterAnswer(answered: string, extras: AnswerExtras): string {
  const md = extrasMarkdown(extras);
  return md ? `${answered ? '\n\n' : ''}${md}` : '';
}

/** Not streamed: the turn's events are read to the end and answered as one `chat.completion`. */
async function answerCompletion(r: Reading): Promise<void> {
  const ac = new AbortController();
  let closed = false;
  const onClose = () => {
    closed = true;
    ac.abort();
  };
  r.res.on('close', onClose);
  let sql: AnswerExtras['sql'];
  let chart: { pngUrl: string } | undefined;
  try {
    for await (const item of readTurn({ events: r.events, stream: r.turn.stream, afterId: '0', idleMs: r.idleMs, onIdle: r.turn.onIdle }, ac.signal)) {
      if (item.type === 'sql') sql = item.data;
      else if (item.type === 'chart') chart = item.data;
      else if (item.type === 'error') throw turnErrorOf(item.data, r.messageIndex);
      else if (item.type === 'done') {
        const done = item.data;
        // `done.answer` is the authoritative text (the output check may have redacted more than the stream).
        const content = done.answer + afterAnswer(done.answer, extrasOf(r.origin, sql, chart, done));
        // A cache hit is stored before the answer, so a GET right after finds the turn.
        await r.turn.record?.();
        r.res.json(completion(r.meta, content, finishReasonOf(done), done.usage));
        return;
      }
    }
  } finally {
    r.res.off('close', onClose);
    ac.abort();
  }
  if (!closed) throw turnErrorOf({ code: 'stream_unavailable', message: 'The turn’s event stream ended before its answer' }, r.messageIndex);
}

/**
 * Streamed: `chat.completion.chunk`s as `data:` frames, then `data: [DONE]`. The headers wait for the turn's
 * first text (or its end), so a message the input guardrail refuses is still a proper 400. The answer's tokens
 * are sent as they come; the data (table, chart, query) and sources follow the text, before the finish.
 */
async function streamCompletion(r: Reading, includeUsage: boolean): Promise<void> {
  const { res, meta } = r;
  const ac = new AbortController();
  const onClose = () => ac.abort();
  res.on('close', onClose);
  const send = (payload: object | string) => writeFrame(res, `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
  let open = false;
  const start = () => {
    if (open) return;
    open = true;
    openEventStream(res);
    send(roleChunk(meta, includeUsage));
  };
  let text = '';
  let sql: AnswerExtras['sql'];
  let chart: { pngUrl: string } | undefined;
  try {
    for await (const item of readTurn({ events: r.events, stream: r.turn.stream, afterId: '0', idleMs: r.idleMs, onIdle: r.turn.onIdle }, ac.signal)) {
      switch (item.type) {
        case 'idle':
          if (open) res.write(': keep-alive\n\n');
          break;
        case 'sql':
          sql = item.data;
          break;
        case 'chart':
          chart = item.data;
          break;
        case 'token':
          start();
          text += item.data.text;
          send(contentChunk(meta, item.data.text, includeUsage));
          break;
        case 'done': {
          start();
          const done = item.data;
          // Text is never taken back: only what `done.answer` adds to the streamed text is sent (a turn that
          // streamed no token, e.g. a canned answer, sends it whole).
          const rest = done.answer.startsWith(text) ? done.answer.slice(text.length) : '';
          if (rest) send(contentChunk(meta, rest, includeUsage));
          const extras = afterAnswer(text + rest, extrasOf(r.origin, sql, chart, done));
          if (extras) send(contentChunk(meta, extras, includeUsage));
          send(finishChunk(meta, finishReasonOf(done), includeUsage));
          if (includeUsage) send(usageChunk(meta, done.usage));
          send('[DONE]');
          await r.turn.record?.();
          return;
        }
        case 'error': {
          const err = turnErrorOf(item.data, r.messageIndex);
          // Nothing sent yet: the error is the response (a 400 for a refused message).
          if (!open) throw err;
          if (item.data.code === 'content_policy') {
            send(finishChunk(meta, 'content_filter', includeUsage));
            if (includeUsage) send(usageChunk(meta, ZERO_USAGE));
            send('[DONE]');
          } else send(errorChunk(err));
          return;
        }
      }
    }
    if (!open && !ac.signal.aborted) throw turnErrorOf({ code: 'stream_unavailable', message: 'The turn’s event stream ended before its answer' }, r.messageIndex);
  } catch (err) {
    if (!open || ac.signal.aborted) throw err;
    // Mid-stream, the error goes in the stream as OpenAI sends one (the SDK throws it), with no [DONE].
    r.req.log?.warn({ err }, 'chat completion stream ended with an error');
    send(errorChunk(turnErrorOf({ code: 'stream_unavailable', message: 'The event stream was interrupted; GET /v1/turns/<X-Turn-Id> has the answer' }, r.messageIndex)));
  } finally {
    res.off('close', onClose);
    if (open && !res.writableEnded) res.end();
    ac.abort();
  }
}

/** Errors on the OpenAI-compatible paths (the API key's 401 included) in OpenAI's shape `{error: {message, type, param, code}}`. */
export function openAiErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = err instanceof OpenAiError ? err : openAiErrorOf(toApiError(err, log, req.path));
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(e.status).set(e.headers).json(e.body());
  };
}
