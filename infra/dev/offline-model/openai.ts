// The OpenAI Chat Completions and Embeddings APIs as the offline model speaks them:
// `POST /openai/v1/chat/completions` (streamed chunks or whole, usage with cached tokens) and
// `POST /openai/v1/embeddings` (the local hashing embedder; float or base64).
import type http from 'node:http';
import { embedText, LOCAL_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL } from '../../llm/local-embedder.ts';
import { OFFLINE_MODEL_NAME as MODEL } from '../../llm/pricing.ts';
import { INJECTED_MESSAGES, injectedHeaders, openaiError } from './errors.ts';
import { readJson, safeWrite, sendJson, startSse } from './http-io.ts';
import { pace, plan, waitWhole } from './plan.ts';
import { issuesText } from './profiles.ts';
import { contentText, embeddingsBody, openaiBody, openaiRuleCall } from './requests.ts';
import { bump, remember, type ModelState } from './state.ts';
import { tokens } from './text.ts';
import { openaiUsage } from './usage.ts';

export async function openaiChat(s: ModelState, req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
  bump(s.counters.requests, 'openai');
  const n = s.nextId();
  const id = `chatcmpl-offline-${String(n).padStart(8, '0')}`;
  res.setHeader('x-request-id', `req_offline_${n}`);
  const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
    bump(s.counters.errors, `openai:${status}`);
    sendJson(res, status, openaiError(status, message), headers);
  };
  const raw = await readJson(req);
  if (!raw.ok) return fail(raw.status, raw.message);
  const parsed = openaiBody.safeParse(raw.value);
  if (!parsed.success) return fail(400, issuesText(parsed.error));
  const body = parsed.data;
  bump(s.counters.models, body.model);

  const call = openaiRuleCall(body);
  remember(s, {
    provider: 'openai',
    model: body.model,
    system: call.rules.system,
    messages: body.messages.flatMap((m) => (m.role === 'user' || m.role === 'assistant' ? [{ role: m.role, content: contentText(m.content) }] : [])),
  });
  const p = plan(s, 'openai', call, body.max_completion_tokens ?? body.max_tokens ?? undefined, body.model);
  if ('failStatus' in p) {
    return fail(p.failStatus, `${INJECTED_MESSAGES[p.failStatus] ?? 'Error'} (injected by the offline model)`, injectedHeaders(p.retryAfterSec));
  }
  const prompt = openaiUsage(body, s.caches.openai, Date.now());
  const completionTokens = tokens(p.text);
  const finishReason = p.truncated ? 'length' : 'stop';
  const created = Math.floor(Date.now() / 1000);
  const usage = {
    prompt_tokens: prompt.input,
    completion_tokens: completionTokens,
    total_tokens: prompt.input + completionTokens,
    prompt_tokens_details: { cached_tokens: prompt.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };

  if (!body.stream) {
    await waitWhole(p, signal);
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: MODEL,
      choices: [
        { index: 0, message: { role: 'assistant', content: p.text, refusal: null, annotations: [] }, logprobs: null, finish_reason: finishReason },
      ],
      usage,
      service_tier: 'default',
      system_fingerprint: null,
    });
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choices: object[], extra: object = {}) =>
    safeWrite(
      res,
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: MODEL, system_fingerprint: null, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`,
    );
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    startSse(res);
    chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
  };
  await pace(p, signal, start, (content) => {
    start();
    chunk([{ index: 0, delta: { content }, logprobs: null, finish_reason: null }]);
  });
  if (signal.aborted) return;
  start();
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }]);
  if (includeUsage) chunk([], { usage });
  safeWrite(res, 'data: [DONE]\n\n');
  res.end();
}

/**
 * OpenAI embeddings from the local hashing embedder. No latency profile and no PRNG draws: embedding
 * calls interleaved with chat must not shift the seeded fault sequence the chat tests rely on.
 */
export async function openaiEmbeddings(s: ModelState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  bump(s.counters.requests, 'embeddings');
  res.setHeader('x-request-id', `req_offline_${s.nextId()}`);
  const fail = (status: number, message: string, param: string | null = null) => {
    bump(s.counters.errors, `embeddings:${status}`);
    sendJson(res, status, openaiError(status, message, param));
  };
  const raw = await readJson(req);
  if (!raw.ok) return fail(raw.status, raw.message);
  const parsed = embeddingsBody.safeParse(raw.value);
  if (!parsed.success) return fail(400, issuesText(parsed.error), String(parsed.error.issues[0]?.path[0] ?? '') || null);
  const body = parsed.data;
  if (body.dimensions !== undefined && body.dimensions !== LOCAL_EMBEDDING_DIMENSIONS) {
    return fail(
      400,
      `Invalid value for 'dimensions' = ${body.dimensions}: ${LOCAL_EMBEDDING_MODEL} (the offline embedder) only produces ${LOCAL_EMBEDDING_DIMENSIONS} dimensions.`,
      'dimensions',
    );
  }
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((text, index) => {
    // Float32 either way, as the real API's vectors are, so both encodings decode to the same numbers.
    const vector = embedText(text).map(Math.fround);
    return { object: 'embedding', index, embedding: base64 ? float32Base64(vector) : vector };
  });
  const promptTokens = inputs.reduce((sum, text) => sum + tokens(text), 0);
  sendJson(res, 200, {
    object: 'list',
    data,
    model: LOCAL_EMBEDDING_MODEL,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

/** OpenAI's base64 embedding encoding: little-endian float32s (explicitly LE, whatever the host). */
function float32Base64(vector: number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return Buffer.from(view.buffer).toString('base64');
}
