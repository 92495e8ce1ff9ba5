// The Anthropic Messages API as the offline model speaks it: `POST /anthropic/v1/messages`, streamed
// (message_start, content_block_delta …, message_stop) or whole, with usage and prompt-cache tokens.
import type http from 'node:http';
import { OFFLINE_MODEL_NAME as MODEL } from '../../llm/pricing.ts';
import { anthropicError, INJECTED_MESSAGES, injectedHeaders } from './errors.ts';
import { readJson, safeWrite, sendJson, startSse } from './http-io.ts';
import { pace, plan, waitWhole } from './plan.ts';
import { issuesText } from './profiles.ts';
import { anthropicBody, anthropicRuleCall, contentText } from './requests.ts';
import { bump, remember, type ModelState } from './state.ts';
import { tokens } from './text.ts';
import { anthropicUsage } from './usage.ts';

export async function anthropicMessages(s: ModelState, req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
  bump(s.counters.requests, 'anthropic');
  const n = s.nextId();
  const id = `msg_offline_${String(n).padStart(8, '0')}`;
  res.setHeader('request-id', `req_offline_${n}`);
  const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
    bump(s.counters.errors, `anthropic:${status}`);
    sendJson(res, status, anthropicError(status, message), headers);
  };
  const raw = await readJson(req);
  if (!raw.ok) return fail(raw.status, raw.message);
  const parsed = anthropicBody.safeParse(raw.value);
  if (!parsed.success) return fail(400, issuesText(parsed.error));
  const body = parsed.data;
  bump(s.counters.models, body.model);

  const call = anthropicRuleCall(body);
  remember(s, { provider: 'anthropic', model: body.model, system: call.rules.system, messages: body.messages.map((m) => ({ role: m.role, content: contentText(m.content) })) });
  const p = plan(s, 'anthropic', call, body.max_tokens, body.model);
  if ('failStatus' in p) {
    return fail(p.failStatus, `${INJECTED_MESSAGES[p.failStatus] ?? 'Error'} (injected by the offline model)`, injectedHeaders(p.retryAfterSec));
  }
  const usage = anthropicUsage(body, s.caches.anthropic, Date.now());
  const outputTokens = tokens(p.text);
  const stopReason = p.truncated ? 'max_tokens' : 'end_turn';
  const promptUsage = {
    input_tokens: usage.input,
    cache_creation_input_tokens: usage.cacheWrite,
    cache_read_input_tokens: usage.cacheRead,
  };

  if (!body.stream) {
    await waitWhole(p, signal);
    return sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: p.text }],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { ...promptUsage, output_tokens: outputTokens },
    });
  }

  let started = false;
  const event = (type: string, data: object) => safeWrite(res, `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const start = () => {
    if (started) return;
    started = true;
    startSse(res);
    event('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...promptUsage, output_tokens: 1 },
      },
    });
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    event('ping', {});
  };
  await pace(p, signal, start, (text) => {
    start();
    event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
  });
  if (signal.aborted) return;
  start();
  event('content_block_stop', { index: 0 });
  event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
  event('message_stop', {});
  res.end();
}
