// The offline model's "brain": a deterministic rule engine, not a language model. It exists so the
// whole stack (SDKs, streaming, retries, caching, cost accounting) runs without a provider key.
// Same request ⇒ same answer: no clock, no randomness, no state.
// What it needs of the product (its understanding rules, its prompt readers) is passed in by the wiring
// (workers/offline-rules.ts): the dev runtime imports nothing of activities/, not even types.
import type { CaptureResult, DetectResult, SessionContext, Slots } from '../../../workflows/shared/understanding.ts';
import { dataAnswer, readDataBlock } from './data-answer.ts';

/** An understanding prompt read back (activities/understanding/prompts.ts). */
export type ReadPrompt =
  | { task: 'capture_slots'; today: string | null; timeZone: string | null; previousSlots: Slots | null }
  | { task: 'detect_intent'; capturedSlots: Slots | null };

/** A SQL prompt read back (activities/sql/prompts.ts). */
export interface ReadSqlPrompt {
  slots: Slots | null;
  today: string | null;
  tenantSchema: string | null;
}

/** The product's own logic the offline model answers with, so the model path and the rules fallback agree offline. */
export interface ProductRules {
  readUnderstandingPrompt(system: string): ReadPrompt | null;
  readSqlPrompt(system: string): ReadSqlPrompt | null;
  captureByRules(text: string, opts: { today: string; previous?: SessionContext | null }): CaptureResult;
  detectByRules(text: string, opts?: { slots?: Slots }): DetectResult;
  /** The product's semantic layer: SQL for the slots on a tenant's schema, or null. */
  compileSlotsToSql(slots: Slots, opts: { today: string; schema: string }): string | null;
}

/** What the rule engine sees of a chat request: flattened system text and text-only messages. */
export interface RuleRequest {
  system: string;
  messages: { role: 'user' | 'assistant'; content: string }[];
}

/** Everything a rule may look at, computed once per request. */
export interface RuleInput {
  request: RuleRequest;
  /** The last user message, trimmed. */
  question: string;
  /** Lower-cased question without punctuation, single-spaced. */
  normalized: string;
  /** Text of all `<context>…</context>` blocks of the system prompt, or null when there are none. */
  context: string | null;
}

/** One rule: the first whose `test` passes answers. */
export interface Rule {
  name: string;
  test: (input: RuleInput) => boolean;
  respond: (input: RuleInput) => string;
}

const CAPABILITIES =
  'sales analytics (revenue, orders, top products, customers and trends) and store policies such as shipping, returns, warranty, payments and loyalty';

const STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been being do does did have has had ' +
    'i me my we our you your he she it its they them their this that these those what which who whom whose when where why how ' +
    'can could would should will shall may might must not no yes so than then there here about into over under again ' +
    'please tell show give know want like just also any all some much many more most very'
  ).split(' '),
);

function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s'-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** A crude stemmer, enough for "orders"/"order", "shipping"/"shipped"/"ships", "policies"/"policy". */
function stem(word: string): string {
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  const stripped = word.length > 5 ? word.replace(/(ing|ed)$/, '') : word;
  if (stripped !== word) return /([b-df-hj-np-tv-z])\1$/.test(stripped) ? stripped.slice(0, -1) : stripped;
  return word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

/** Content words of a text, stemmed. */
function keywords(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of normalize(text).split(' ')) {
    if (w.length < 3 || STOPWORDS.has(w)) continue;
    out.add(stem(w));
  }
  return out;
}

/** The question as the answer quotes it: no trailing punctuation, at most `maxWords` words. */
function restate(question: string, maxWords = 20): string {
  const words = question.replace(/[\s?!.]+$/, '').split(/\s+/).filter(Boolean);
  const head = words.slice(0, maxWords).join(' ');
  return words.length > maxWords ? `${head}…` : head;
}

/** What the question is about, for the fallback: leading filler and question words dropped. */
function topicOf(question: string): string {
  const stripped = restate(question, 14)
    .replace(/^(please\s+)?(can|could|would|will)\s+you\s+(please\s+)?(tell me( about)?|explain|show me|help me( with)?|describe)?\s*/i, '')
    .replace(/^how (do|can|should|would) (i|we)\s+/i, 'how to ')
    .replace(/^(what|how|why|when|where|who|which)\s+(is|are|was|were|do|does|did|can|should|would)\s+/i, '')
    .replace(/^(tell me about|explain|describe)\s+/i, '')
    .trim();
  return stripped || 'that';
}

/** `<context>` blocks of the system prompt, with their `source="…"` attribute when they carry one. */
function contextBlocks(system: string): { source: string | null; text: string }[] {
  return [...system.matchAll(/<context(?:\s+source="([^"]*)")?\s*>([\s\S]*?)<\/context>/gi)]
    .map((m) => ({ source: m[1] ?? null, text: (m[2] ?? '').trim() }))
    .filter((b) => b.text);
}

function extractContext(system: string): string | null {
  const blocks = contextBlocks(system);
  return blocks.length ? blocks.map((b) => b.text).join('\n') : null;
}

/** The sources whose text holds any of the picked sentences, in order, each once: what the answer cites. */
function citedSources(system: string, picked: string[]): string[] {
  const cited: string[] = [];
  for (const b of contextBlocks(system)) {
    if (b.source && !cited.includes(b.source) && picked.some((s) => b.text.includes(s))) cited.push(b.source);
  }
  return cited;
}

function sentences(text: string): string[] {
  return text
    .split(/\n+|(?<=[.!?])\s+/)
    .map((s) => s.replace(/^[\s*•-]+/, '').trim())
    .filter((s) => wordCount(s) >= 2);
}

/**
 * The 2–3 context sentences sharing most words with the question, in their original order. Earlier blocks
 * were ranked higher by the retrieval that chose them, and sentences with figures (days, amounts) carry
 * the facts people ask for, so both break ties.
 */
function relevantSentences(blocks: string[], question: string): string[] {
  const all = blocks.flatMap((text, block) => sentences(text).map((s) => ({ s, block })));
  const asked = keywords(question);
  const scored = all.map(({ s, block }, index) => {
    let score = 0;
    for (const k of keywords(s)) if (asked.has(k)) score++;
    if (score > 0) score += Math.max(0, 0.6 - 0.2 * block) + (/\d/.test(s) ? 1 : 0);
    return { s, index, score };
  });
  const matching = scored.filter((x) => x.score > 0).sort((a, b) => b.score - a.score || a.index - b.index);
  // Nothing overlaps: the context still is what the caller chose to send, so lead with its opening.
  const picked = (matching.length ? matching : scored).slice(0, 3);
  const ordered = picked.sort((a, b) => a.index - b.index).map((x) => x.s);
  // Keep the answer inside the 120-word budget; the best sentence always stays whole.
  const out: string[] = [];
  let words = 0;
  for (const s of ordered) {
    const n = wordCount(s);
    if (out.length && words + n > 100) continue;
    out.push(s);
    words += n;
  }
  return out;
}

const GREETING = /^(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening|day))\b/;
const THANKS = /\b(thanks|thank you|thx|cheers|much appreciated)\b/;
const BYE = /\b(bye|goodbye|see you|see ya|have a (good|nice) (day|one))\b/;
const CAPABILITIES_Q =
  /\b(what can you do|what do you do|how can you help|what can i ask|who are you|what are you|your capabilities)\b|^(help|help me|menu|options)$/;
const ANALYTICS =
  /\b(sales?|revenue|orders?|top (products?|sellers?|customers?)|best[- ]sell\w*|customers?|trends?|compare|comparison|by (region|country|channel|category|month|week|day)|last (week|month|quarter|year)|this (week|month|quarter|year)|yesterday|today|aov|average order|conversion|refund rate|growth|units? sold|gmv|margin)\b/;

/**
 * The understanding tasks (activities/understanding/prompts.ts) answered with the product's own rules, so
 * the model path and the rules fallback agree offline. Malformed prompt lines read as absent; a rules
 * failure still answers valid JSON, since a model never throws, it only answers badly.
 */
function understandingAnswer(product: ProductRules, prompt: ReadPrompt, question: string): string {
  if (prompt.task === 'detect_intent') {
    try {
      const { intent, confidence, complexity } = product.detectByRules(question, prompt.capturedSlots ? { slots: prompt.capturedSlots } : {});
      return JSON.stringify({ intent, confidence, complexity });
    } catch {
      return JSON.stringify({ intent: 'unknown', confidence: 0, complexity: 'simple' });
    }
  }
  try {
    // No clock here: without a Today line the rules leave relative ranges unresolved (an empty today is invalid).
    // The prompt carries no previous intent, so the rules judge the previous turn by its slots alone.
    const { slots, inherited } = product.captureByRules(question, {
      today: prompt.today ?? '',
      previous: prompt.previousSlots ? { intent: 'unknown', slots: prompt.previousSlots } : null,
    });
    return JSON.stringify({ slots, inherited });
  } catch {
    return JSON.stringify({ slots: {}, inherited: [] });
  }
}

/**
 * The SQL task (activities/sql/prompts.ts) answered by the product's semantic layer from the prompt's slots. A
 * previous error changes nothing: the layer has no better query to offer, and the same prompt must keep
 * giving the same answer.
 */
function sqlAnswer(product: ProductRules, prompt: ReadSqlPrompt): string {
  const sql = prompt.slots && prompt.tenantSchema ? product.compileSlotsToSql(prompt.slots, { today: prompt.today ?? '', schema: prompt.tenantSchema }) : null;
  return sql
    ? `\`\`\`sql\n${sql}\n\`\`\``
    : "I can't write a query for that from what I understood. Please name a figure (revenue, orders, units, customers, average order value, rating, returns or cancellations) and, if you like, a period and a breakdown.";
}

/** The rules, in order, over the product's logic; the last one always answers. */
export function rulesOf(product: ProductRules): Rule[] {
  return [
  {
    name: 'understanding',
    test: ({ request }) => product.readUnderstandingPrompt(request.system) !== null,
    respond: ({ request, question }) => understandingAnswer(product, product.readUnderstandingPrompt(request.system)!, question),
  },
  {
    name: 'generate-sql',
    test: ({ request }) => product.readSqlPrompt(request.system) !== null,
    respond: ({ request }) => sqlAnswer(product, product.readSqlPrompt(request.system)!),
  },
  {
    // Before the small-talk rules too: "thanks, and by region?" with results in the prompt wants the results.
    name: 'data',
    test: ({ request }) => readDataBlock(request.system) !== null,
    respond: ({ request, context, question }) => {
      const figures = dataAnswer(readDataBlock(request.system)!);
      // Documents too (a question about both, e.g. returns this year and the return policy): add what they say.
      if (context === null) return figures;
      const picked = relevantSentences(contextBlocks(request.system).map((b) => b.text), question);
      const sources = citedSources(request.system, picked);
      const body = picked.map((x) => (/[.!?:]$/.test(x) ? x : `${x}.`)).join(' ');
      return `${figures}\n\nFrom the store's documents: ${body}${sources.length ? ` (${sources.length === 1 ? 'Source' : 'Sources'}: ${sources.join('; ')}.)` : ''}`;
    },
  },
  {
    name: 'greeting',
    test: ({ normalized }) => GREETING.test(normalized) && wordCount(normalized) <= 6,
    respond: ({ normalized }) => {
      const hello = normalized.startsWith('good ') ? normalized.split(' ').slice(0, 2).join(' ') : 'hello';
      const opening = hello.charAt(0).toUpperCase() + hello.slice(1);
      return `${opening}! I'm your shop assistant. I can help you with ${CAPABILITIES}. What would you like to know today?`;
    },
  },
  {
    name: 'thanks-bye',
    test: ({ normalized }) => (THANKS.test(normalized) || BYE.test(normalized)) && wordCount(normalized) <= 8,
    respond: ({ normalized }) =>
      BYE.test(normalized)
        ? `Goodbye, and thanks for stopping by! Whenever you need numbers on sales, orders or products, or a quick answer about shipping, returns or payments, just ask.`
        : `You're welcome, happy to help! If anything else comes up about your sales, orders, products or customers, or about the store's shipping, returns and payment policies, just ask.`,
  },
  {
    name: 'capabilities',
    test: ({ normalized }) => CAPABILITIES_Q.test(normalized),
    respond: () =>
      `I'm the shop assistant, currently answering as a deterministic rule engine (offline model) because no language model provider is configured. ` +
      `I can help with ${CAPABILITIES}. Ask things like "What were sales last week?" or "What is the return policy?".`,
  },
  {
    name: 'context',
    test: ({ context }) => context !== null,
    respond: ({ context, question, request }) => {
      const blocks = contextBlocks(request.system).map((b) => b.text);
      const picked = relevantSentences(blocks.length ? blocks : [context ?? ''], question);
      const body = picked.map((s) => (/[.!?:]$/.test(s) ? s : `${s}.`)).join(' ');
      const sources = citedSources(request.system, picked);
      const cite = sources.length ? ` (${sources.length === 1 ? 'Source' : 'Sources'}: ${sources.join('; ')}.)` : '';
      return `Here is what I found on that. ${body}${cite} Let me know if you would like more detail on any of this.`;
    },
  },
  {
    name: 'analytics-without-data',
    test: ({ normalized }) => ANALYTICS.test(normalized),
    respond: ({ question }) =>
      `You asked: "${restate(question)}". The data needed to answer that is not available to me in this turn, so I can't give you real numbers right now. ` +
      `Please try again in a moment, or narrow the question to a specific period, product or region.`,
  },
  {
    name: 'fallback',
    test: () => true,
    respond: ({ question }) =>
      `Thanks for your question about ${question.trim() ? `"${topicOf(question)}"` : 'the store'}. I don't have specific information on that right now. ` +
      `I can help you with ${CAPABILITIES}. Could you rephrase your question around one of those topics so I can give you a precise answer?`,
  },
  ];
}

// One rule list per product object (the wiring passes one), built on first use.
const rulesCache = new WeakMap<ProductRules, Rule[]>();
function rulesFor(product: ProductRules): Rule[] {
  let rules = rulesCache.get(product);
  if (!rules) rulesCache.set(product, (rules = rulesOf(product)));
  return rules;
}

/** Builds the rule input of a request: the last user message is the question. */
export function ruleInput(request: RuleRequest): RuleInput {
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
  const question = (lastUser?.content ?? '').trim();
  return { request, question, normalized: normalize(question), context: extractContext(request.system) };
}

function pick(product: ProductRules, input: RuleInput): Rule {
  const rules = rulesFor(product);
  // The fallback's test always passes; the `??` only satisfies the type checker.
  return rules.find((r) => r.test(input)) ?? (rules[rules.length - 1] as Rule);
}

/** Which rule answers a request (for logs and tests). */
export function ruleFor(req: RuleRequest, product: ProductRules): Rule {
  return pick(product, ruleInput(req));
}

/** The offline model's answer to a request; deterministic. */
export function answerFor(req: RuleRequest, product: ProductRules): string {
  const input = ruleInput(req);
  return pick(product, input).respond(input);
}
