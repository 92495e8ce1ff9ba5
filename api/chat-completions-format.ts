// The OpenAI Chat Completions wire format, and the product's turns translated into it. Pure: no I/O.
// The route (api/chat-completions.ts) reads the request with `parseChatRequest`, runs the turn, and writes
// what the builders below make of its events.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TurnEvent, TurnResult, Usage } from '../workflows/shared/contract.ts';
import type { ApiError } from './errors.ts';
import { messageText, SESSION_ID_PATTERN, userIdText } from './schemas.ts';

/** What `model` is when a request names none; also the one model GET /v1/models lists. */
export const DEFAULT_MODEL = 'turnflow';

/** Rows of a data answer shown in its Markdown table; the rest are counted under it. */
export const TABLE_ROWS = 10;

/** A cell longer than this is cut (a table in a chat is for reading, the full rows are in the turn's `sql` event). */
const MAX_CELL_CHARS = 80;

/** An error in OpenAI's shape `{error: {message, type, param, code}}`, with its status and headers. */
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OpenAiError';
  }

  /** The response body. */
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const invalid = (message: string, param: string | null, code = 'invalid_value') => new OpenAiError(400, 'invalid_request_error', code, message, param);

// The SDK retries 408, 409, 429 and 5xx unless told not to: an answer that cannot change on a retry says so.
const NO_RETRY = { 'x-should-retry': 'false' };

/**
 * The product's error (`ApiError`: a bad key, a refusal by admission, a body the parser refused, a dependency
 * down) in OpenAI's shape. Statuses and `Retry-After` are kept; codes become OpenAI's where it has one.
 */
export function openAiErrorOf(err: ApiError): OpenAiError {
  const { status, code, message, headers } = err;
  switch (code) {
    case 'unauthorized':
      return new OpenAiError(401, 'invalid_request_error', 'invalid_api_key', message, null, headers);
    case 'rate_limited':
      return new OpenAiError(429, 'requests', 'rate_limit_exceeded', message, null, headers);
    case 'budget_exhausted':
      return new OpenAiError(429, 'insufficient_quota', 'insufficient_quota', message, null, headers);
    case 'not_found':
      return new OpenAiError(404, 'invalid_request_error', 'unknown_url', message, null, headers);
    case 'idempotency_key_reused':
      return new OpenAiError(409, 'invalid_request_error', code, message, null, { ...headers, ...NO_RETRY });
    case 'dependency_unavailable':
      return new OpenAiError(503, 'server_error', 'service_unavailable', message, null, headers);
    case 'internal':
      return new OpenAiError(500, 'server_error', 'internal_error', message, null, headers);
  }
  const param = code === 'invalid_idempotency_key' ? 'Idempotency-Key' : null;
  return new OpenAiError(status, status >= 500 ? 'server_error' : 'invalid_request_error', code, message, param, headers);
}

/** A turn that ended with an `error` event before anything was sent: the response it becomes. */
export function turnErrorOf(error: { code: string; message: string }, messageIndex: number): OpenAiError {
  switch (error.code) {
    case 'content_policy':
      // Not retried: the same message is refused again.
      return new OpenAiError(400, 'invalid_request_error', 'content_policy_violation', error.message, `messages[${messageIndex}].content`, NO_RETRY);
    case 'cancelled':
      return new OpenAiError(500, 'server_error', 'cancelled', error.message, null, NO_RETRY);
    case 'stream_unavailable':
      return new OpenAiError(503, 'server_error', 'stream_unavailable', error.message, null, { 'Retry-After': '2' });
    default:
      return new OpenAiError(500, 'server_error', error.code, error.message);
  }
}

/** What a chat completion request asks for, as the product reads it. */
export interface ChatRequest {
  /** Echoed in the response; the product picks its providers and models itself. */
  model: string;
  /** The last `user` message's text: the turn's message. */
  message: string;
  /** Where that message is in `messages` (errors about it name it). */
  messageIndex: number;
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `usage` (and `usage: null` on the others). */
  includeUsage: boolean;
  /** The request's `user`: the end user (the turn's `userId`), and the session when no header names one. */
  user?: string;
}

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

// What is checked: the fields the product reads. Every other field (temperature, max_tokens, tools, …) is
// accepted and ignored, as an OpenAI-protocol front end sends them whatever the server.
const chatRequestBody = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(ROLES),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
      }),
    )
    .min(1, 'messages must not be empty'),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullable().optional() }).nullable().optional(),
  user: z.string().optional(),
  n: z.number().int().nullable().optional(),
});

/** OpenAI's way of naming a field: `messages[2].content`. */
export function paramOf(path: readonly PropertyKey[]): string | null {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || null;
}

/** The first issue of a failed parse as a 400 naming its field. */
function firstIssue(error: z.ZodError, prefix: readonly PropertyKey[] = []): OpenAiError {
  const issue = error.issues[0];
  const param = paramOf([...prefix, ...(issue?.path ?? [])]);
  return invalid(`${param ? `${param}: ` : ''}${issue?.message ?? 'invalid value'}`, param);
}

/** Reads a chat completion request; a 400 (`OpenAiError`) names the field that is wrong. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The request body must be a JSON object', null);
  const parsed = chatRequestBody.safeParse(body);
  if (!parsed.success) throw firstIssue(parsed.error);
  const req = parsed.data;
  if (req.n != null && req.n !== 1) throw invalid('Only one choice is answered: n must be 1', 'n');
  let index = -1;
  for (let i = req.messages.length - 1; i >= 0; i--) {
    if (req.messages[i]!.role === 'user') {
      index = i;
      break;
    }
  }
  if (index < 0) throw invalid("messages must contain a user message: the last one is the turn's question", 'messages', 'missing_user_message');
  const content = req.messages[index]!.content;
  let text: string;
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    const parts: string[] = [];
    content.forEach((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw invalid(`Only text content is answered; messages[${index}].content[${j}] is of type ${JSON.stringify(part.type)}`, `messages[${index}].content[${j}]`);
      }
      parts.push(part.text);
    });
    text = parts.join('\n');
  } else throw invalid(`messages[${index}].content: a user message needs text content`, `messages[${index}].content`);
  const message = messageText(`messages[${index}].content`).safeParse(text);
  if (!message.success) throw firstIssue(message.error, ['messages', index, 'content']);
  if (req.user !== undefined) {
    const user = userIdText('user').safeParse(req.user);
    if (!user.success) throw invalid(user.error.issues[0]?.message ?? 'invalid user', 'user');
  }
  return {
    model: req.model ?? DEFAULT_MODEL,
    message: message.data,
    messageIndex: index,
    stream: req.stream === true,
    includeUsage: req.stream === true && req.stream_options?.include_usage === true,
    ...(req.user !== undefined ? { user: req.user } : {}),
  };
}

/**
 * The turn's session: the `X-Session-Id` header when given (a conversation of the client's), else the
 * request's `user` (a valid session id as it is, any other value by its digest, so an e-mail address never
 * becomes a search attribute), else one session per API key.
 */
export function sessionFor(header: string | undefined, user: string | undefined, keyId: string): string {
  if (header !== undefined) {
    if (!SESSION_ID_PATTERN.test(header)) throw invalid('X-Session-Id must be 1-128 characters of A-Z, a-z, 0-9, _ or -', 'X-Session-Id');
    return header;
  }
  if (user !== undefined) return SESSION_ID_PATTERN.test(user) ? user : `user-${createHash('sha256').update(user).digest('base64url').slice(0, 22)}`;
  return `key-${keyId}`;
}

/** What every response of one completion carries. */
export interface CompletionMeta {
  /** `chatcmpl-<turnId>`. */
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

/** OpenAI's `usage` from a turn's (every model call of it; cache reads and writes are prompt tokens, as OpenAI counts them). */
export function openAiUsage(u: Usage): { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: { cached_tokens: number } } {
  const prompt = u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
  return { prompt_tokens: prompt, completion_tokens: u.outputTokens, total_tokens: prompt + u.outputTokens, prompt_tokens_details: { cached_tokens: u.cacheReadTokens } };
}

export type FinishReason = 'stop' | 'content_filter';

/** `content_filter` when the output check replaced the answer; `stop` otherwise. */
export function finishReasonOf(result: Pick<TurnResult, 'guardrail'>): FinishReason {
  return result.guardrail?.blocked ? 'content_filter' : 'stop';
}

type Delta = { role?: 'assistant'; content?: string; refusal?: null };

function chunk(meta: CompletionMeta, choices: object[], includeUsage: boolean) {
  return { id: meta.id, object: 'chat.completion.chunk' as const, created: meta.created, model: meta.model, choices, ...(includeUsage ? { usage: null } : {}) };
}

function choice(delta: Delta, finishReason: FinishReason | null) {
  return { index: 0, delta, logprobs: null, finish_reason: finishReason };
}

/** The first chunk: the assistant's role, no text yet. */
export function roleChunk(meta: CompletionMeta, includeUsage: boolean) {
  return chunk(meta, [choice({ role: 'assistant', content: '', refusal: null }, null)], includeUsage);
}

/** A piece of the answer. */
export function contentChunk(meta: CompletionMeta, text: string, includeUsage: boolean) {
  return chunk(meta, [choice({ content: text }, null)], includeUsage);
}

/** The last chunk of the choice: why it ended. */
export function finishChunk(meta: CompletionMeta, reason: FinishReason, includeUsage: boolean) {
  return chunk(meta, [choice({}, reason)], includeUsage);
}

/** With `stream_options.include_usage`: one more chunk after the finish, no choices, the turn's usage. */
export function usageChunk(meta: CompletionMeta, usage: Usage) {
  return { id: meta.id, object: 'chat.completion.chunk' as const, created: meta.created, model: meta.model, choices: [], usage: openAiUsage(usage) };
}

/** A mid-stream error, as OpenAI sends one (the SDK throws it as an `APIError`). */
export function errorChunk(err: OpenAiError) {
  return err.body();
}

/** The whole answer as one `chat.completion`. */
export function completion(meta: CompletionMeta, content: string, reason: FinishReason, usage: Usage) {
  return {
    id: meta.id,
    object: 'chat.completion' as const,
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message: { role: 'assistant' as const, content, refusal: null, annotations: [] }, logprobs: null, finish_reason: reason }],
    usage: openAiUsage(usage),
  };
}

/** One value as a table cell: no pipe or line break escapes the cell, long text is cut. */
export function markdownCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  s = s.replace(/\s*[\r\n]+\s*/g, ' ');
  if (s.length > MAX_CELL_CHARS) s = `${s.slice(0, MAX_CELL_CHARS - 1)}…`;
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

const NUMERIC = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * The first `maxRows` rows as a Markdown table (numeric columns right-aligned), and a line saying how many
 * more the result had. Empty string for a result without columns; "No rows." for one without rows.
 */
export function markdownTable(columns: readonly string[], rows: readonly unknown[][], rowCount: number, maxRows = TABLE_ROWS): string {
  if (!columns.length) return '';
  if (!rows.length || rowCount === 0) return '_The query returned no rows._';
  const shown = rows.slice(0, maxRows);
  const numeric = columns.map((_c, i) => {
    const values = shown.map((r) => r[i]).filter((v) => v !== null && v !== undefined);
    return values.length > 0 && values.every((v) => typeof v === 'number' || (typeof v === 'string' && NUMERIC.test(v)));
  });
  const lines = [
    `| ${columns.map(markdownCell).join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...shown.map((r) => `| ${columns.map((_c, i) => markdownCell(r[i])).join(' | ')} |`),
  ];
  const total = Math.max(rowCount, rows.length);
  const more = total - shown.length;
  if (more > 0) lines.push('', `_${shown.length} of ${total} rows shown; ${more} more not shown._`);
  return lines.join('\n');
}

/** What a turn's stream brought besides the answer's text. */
export interface AnswerExtras {
  sql?: Extract<TurnEvent, { type: 'sql' }>['data'];
  /** The chart's PNG, an absolute, signed URL (a chat front end's `<img>` sends no key). */
  chartUrl?: string;
  sources?: { slug: string; title: string }[];
}

/**
 * What follows the answer's text, in Markdown: the query's first rows as a table (how many more), the chart as
 * an image, the query, and a policy answer's sources. Empty when there is none of them.
 */
export function extrasMarkdown(extras: AnswerExtras): string {
  const blocks: string[] = [];
  if (extras.sql) {
    const table = markdownTable(extras.sql.columns, extras.sql.rows, extras.sql.rowCount);
    if (table) blocks.push(table);
  }
  if (extras.chartUrl) blocks.push(`![chart](${extras.chartUrl})`);
  if (extras.sql?.sql) blocks.push(['```sql', extras.sql.sql.trim(), '```'].join('\n'));
  if (extras.sources?.length) blocks.push(['Sources:', ...extras.sources.map((s) => `- ${markdownCell(s.title)}`)].join('\n'));
  return blocks.join('\n\n');
}

/** `path` (the API's own, e.g. a signed chart URL) under the API's origin (`http://host:port`). */
export function absoluteUrl(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, '')}${path.startsWith('/') ? '' : '/'}${path}`;
}
