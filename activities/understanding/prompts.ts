// The wire protocol between the product and any model for the two understanding tasks: slot capture
// and intent detection. The first line names the task (the offline model dispatches on it); the
// per-request lines (today, previous or captured slots) come last, so everything above them is a
// stable prefix that providers can cache. Both directions live here: building a prompt, and reading
// one back (for the offline model, which answers these tasks from the rules).
import { z } from 'zod';
import type { HistoryMessage } from '../../workflows/shared/contract.ts';
import { COMPLEXITIES, DIMENSIONS, METRICS, TOPICS, type SessionContext, type Slots } from '../../workflows/shared/understanding.ts';
import { captureOutputSchema, FILTER_VALUES } from './schemas.ts';

/** Version of the understanding prompts; bump it whenever their wording or the reply format changes. */
export const PROMPT_VERSION = 'understand-v1';

/** First line of the capture prompt. */
export const CAPTURE_TASK_LINE = 'TASK: capture_slots';
/** First line of the detect prompt. */
export const DETECT_TASK_LINE = 'TASK: detect_intent';

/** A prompt ready for `ChatProvider.complete()`: `system` is identical for every request (cacheable), `systemContext` the per-request lines. */
export interface UnderstandingPrompt {
  system: string;
  systemContext: string;
  messages: HistoryMessage[];
}

/** A prompt's whole system text, as a model (and `readUnderstandingPrompt`) sees it. */
export function understandingPromptText(p: Pick<UnderstandingPrompt, 'system' | 'systemContext'>): string {
  return `${p.system}\n${p.systemContext}`;
}

const list = (values: readonly string[]) => values.join('|');
const quoted = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(', ');

// Everything but the last two lines: identical for every request, hence cacheable.
const CAPTURE_HEAD = [
  CAPTURE_TASK_LINE,
  "Extract slots from the user's message to an e-commerce shop assistant (sales analytics and store policies).",
  'Slots, all optional; leave out what the message does not say:',
  '- timeRange: {"label","start","end"}; start/end are ISO dates (YYYY-MM-DD) resolved against Today in its time zone, end exclusive; label normalised, e.g. yesterday, last_week, this_month, last_30_days, 2026-03, 2025',
  `- metric: ${list(METRICS)}`,
  `- dimension (breakdown): ${list(DIMENSIONS)}`,
  '- filters: arrays of values exactly as stored:',
  `  region: ${quoted(FILTER_VALUES.region)}; country: ISO 3166-1 alpha-2 codes, e.g. "DE"`,
  `  channel: ${quoted(FILTER_VALUES.channel)}; segment: ${quoted(FILTER_VALUES.segment)}`,
  `  status: ${quoted(FILTER_VALUES.status)}`,
  `  category: ${quoted(FILTER_VALUES.category)}`,
  '- entities: {"orderIds": [integers], "productIds": [integers], "skus": [strings]}',
  '- limit: integer N of a top/bottom N; order: "desc" for top/best/most, "asc" for bottom/worst/least',
  '- numbers: other numbers in the message (amounts, quantities), in order',
  `- topic (store policy): ${list(TOPICS)}`,
  '- complaint, purchase, chart: true when the user complains, wants to buy something, asks for a chart',
  '- qualifiers: answer-changing details, any of customers:new, customers:returning, compare, aspect:cost, aspect:time, aspect:international, action:cancel, action:exchange, action:change',
  'A follow-up (e.g. "and last month?") keeps the previous slots it does not change: copy them and list their keys in "inherited". Otherwise "inherited" is [].',
  'Reply with only a JSON object, no prose: {"slots": {...}, "inherited": ["metric", ...]}',
].join('\n');

const DETECT_HEAD = [
  DETECT_TASK_LINE,
  "Classify the user's message to an e-commerce shop assistant. Intents:",
  "- analytics: numbers from the shop's own data: sales, revenue, orders, products, customers, trends",
  '- knowledge: store policies: shipping, returns, warranty, payments, loyalty, privacy',
  '- order_status: the status or whereabouts of a specific order',
  '- complaint: the user complains: damaged, late or wrong items, refund demands, anger',
  '- small_talk: greetings, thanks, goodbyes, questions about the assistant itself',
  '- out_of_scope: anything else',
  `Complexity: ${list(COMPLEXITIES)} (from a greeting, through one fact or number, to a multi-part analysis).`,
  'Captured slots, when given, were extracted from the same message; use them as evidence.',
  'Reply with only a JSON object, no prose: {"intent": "...", "confidence": 0.0-1.0, "complexity": "..."}',
].join('\n');

/** The capture prompt: slot description, then today and the previous turn's slots; the question is the user message. */
export function buildCapturePrompt(input: { message: string; today: string; timeZone: string; previous: SessionContext | null }): UnderstandingPrompt {
  return {
    system: CAPTURE_HEAD,
    systemContext: [`Today: ${input.today} (time zone: ${input.timeZone})`, `Previous slots: ${input.previous ? JSON.stringify(input.previous.slots) : 'none'}`].join('\n'),
    messages: [{ role: 'user', content: input.message }],
  };
}

/** The detect prompt: intents and complexity levels, then the captured slots (pass 2) or none (pass 1). */
export function buildDetectPrompt(input: { message: string; slots?: Slots }): UnderstandingPrompt {
  return {
    system: DETECT_HEAD,
    systemContext: `Captured slots: ${input.slots ? JSON.stringify(input.slots) : 'none'}`,
    messages: [{ role: 'user', content: input.message }],
  };
}

/** What an understanding prompt says, read back from its system text (malformed lines read as absent). */
export type ReadPrompt =
  | { task: 'capture_slots'; today: string | null; timeZone: string | null; previousSlots: Slots | null }
  | { task: 'detect_intent'; capturedSlots: Slots | null };

/** Reads an understanding prompt back; null when the system text is not one. Never throws. */
export function readUnderstandingPrompt(system: string): ReadPrompt | null {
  const lines = system.split('\n');
  const first = lines[0]?.trim();
  const value = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2).trim() ?? null;
  if (first === CAPTURE_TASK_LINE) {
    const today = /^(\d{4}-\d{2}-\d{2})(?:\s+\(time zone: ([^)]+)\))?$/.exec(value('Today') ?? '');
    const date = today?.[1] !== undefined && z.iso.date().safeParse(today[1]).success ? today[1] : null;
    return { task: 'capture_slots', today: date, timeZone: today?.[2] ?? null, previousSlots: slotsJson(value('Previous slots')) };
  }
  if (first === DETECT_TASK_LINE) return { task: 'detect_intent', capturedSlots: slotsJson(value('Captured slots')) };
  return null;
}

/** Slots from a prompt line's JSON, validated like a model's reply; null for `none` or anything malformed. */
function slotsJson(text: string | null): Slots | null {
  if (!text || text === 'none') return null;
  try {
    const parsed = captureOutputSchema.shape.slots.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
