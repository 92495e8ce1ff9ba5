// What the offline model reads of a request: each wire format's body (validated just enough to answer a
// malformed one with a provider-shaped 400), its text, and a continuation of an interrupted answer.
import { z } from 'zod';
import { CONTINUATION_INSTRUCTION } from '../../llm/provider.ts';
import type { RuleRequest } from './rules.ts';

/** OpenAI's own cap on inputs per embeddings request. */
const MAX_EMBEDDING_INPUTS = 2048;

// ---- request validation (minimal: enough to answer malformed requests with a provider-shaped 400)

export const block = z.looseObject({ type: z.string() });
export const anthropicBody = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(block)]) })).min(1),
  system: z.union([z.string(), z.array(block)]).optional(),
  stream: z.boolean().optional(),
  cache_control: z.unknown().optional(),
});
export type AnthropicBody = z.infer<typeof anthropicBody>;

export const openaiBody = z.looseObject({
  model: z.string().min(1),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: z.union([z.string(), z.array(block), z.null()]).optional(),
      }),
    )
    .min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});
export type OpenAIBody = z.infer<typeof openaiBody>;

export const embeddingsBody = z.looseObject({
  model: z.string().min(1),
  // Token-id arrays are valid for OpenAI too, but nothing here sends them and a hashing embedder has no vocabulary.
  input: z.union([z.string(), z.array(z.string()).min(1).max(MAX_EMBEDDING_INPUTS)]),
  dimensions: z.number().int().min(1).optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  user: z.string().optional(),
});

/** Text of a content value: strings as is, text blocks' text, other blocks as JSON (they still cost tokens). */
export function blockText(b: { type: string; [k: string]: unknown }): string {
  if ((b.type === 'text' || b.type === 'input_text') && typeof b.text === 'string') return b.text;
  return JSON.stringify(b);
}
export function contentText(content: string | { type: string; [k: string]: unknown }[] | null | undefined): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map(blockText).join('\n');
}

// ---- continuation of an interrupted answer

/**
 * The rest of `answer` once `partial` has been said: the answer minus that prefix, leading whitespace kept,
 * so partial + rest is the answer. An Anthropic prefill arrives with its trailing whitespace trimmed (the
 * API refuses it otherwise), hence the second comparison. When the answer does not start with the partial
 * (e.g. it was redacted, or came from another conversation), the whole answer.
 */
export function restOf(answer: string, partial: string): string {
  if (answer.startsWith(partial)) return answer.slice(partial.length);
  const trimmed = partial.trimEnd();
  return answer.startsWith(trimmed) ? answer.slice(trimmed.length) : answer;
}

/** A chat request for the rule engine: the conversation, and the partial answer to continue, if any. */
export interface RuleCall {
  rules: RuleRequest;
  partial: string | null;
}

/**
 * Anthropic: a last message of role `assistant` is a prefill to continue; the answer is the one to the
 * conversation before it.
 */
export function anthropicRuleCall(body: AnthropicBody): RuleCall {
  const messages = body.messages.map((m) => ({ role: m.role, content: contentText(m.content) }));
  const system = typeof body.system === 'string' ? body.system : (body.system ?? []).map(blockText).join('\n');
  const last = messages[messages.length - 1];
  if (last?.role !== 'assistant') return { rules: { system, messages }, partial: null };
  return { rules: { system, messages: messages.slice(0, -1) }, partial: last.content };
}

/**
 * OpenAI: a partial answer as an assistant message followed by the user message CONTINUATION_INSTRUCTION
 * (infra/llm/provider.ts) asks to continue it; the answer is the one to the conversation before both.
 */
export function openaiRuleCall(body: OpenAIBody): RuleCall {
  const system = body.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => contentText(m.content))
    .join('\n');
  const messages = body.messages.flatMap((m) =>
    m.role === 'user' || m.role === 'assistant' ? [{ role: m.role, content: contentText(m.content) }] : [],
  );
  const [partial, instruction] = body.messages.slice(-2);
  const continues =
    body.messages.length >= 2 &&
    partial?.role === 'assistant' &&
    instruction?.role === 'user' &&
    contentText(instruction.content).trim() === CONTINUATION_INSTRUCTION;
  if (!continues) return { rules: { system, messages }, partial: null };
  // The two are the last user/assistant messages too, so dropping them from `messages` is dropping the last two.
  return { rules: { system, messages: messages.slice(0, -2) }, partial: contentText(partial.content) };
}
