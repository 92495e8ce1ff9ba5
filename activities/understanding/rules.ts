// Deterministic understanding: follow-up, slots, intent and complexity (language: language.ts). The rules
// run when the model is late or down, and the offline model answers from them, so they must be pure (no
// clock: `today` comes in), total (never throw, any input) and cheap: every regex is linear — no nested
// quantifiers — and only the first MAX_CHARS characters of a message are looked at. Their parts: lexicon.ts
// (the words), text.ts, time-range.ts, slots.ts, analysis.ts (one pass over a message), follow-up.ts.
import type { CaptureResult, Complexity, DetectResult, IntentOrUnknown, SessionContext, Slots } from '../../workflows/shared/understanding.ts';
import { GREETING_PREFIX, MY_ORDER, ORDER_TRACKING, OUT_OF_SCOPE, POLICY_WORDS } from './lexicon.ts';
import { cleanText, normalize } from './text.ts';
import { parseToday } from './time-range.ts';
import { countMatches, isSmallTalkOnly } from './slots.ts';
import { ANY_DAY, analyse, settleBareReturns, type Analysis } from './analysis.ts';
import { inherit } from './follow-up.ts';

/** True when the message only makes sense with the previous turn: "and last month?", "what about Europe?", "same for electronics", "vs last year?" … */
export function isFollowUp(text: string): boolean {
  try {
    return analyse(text, ANY_DAY).followUp;
  } catch {
    return false;
  }
}

/** Slots of a message (relative dates resolved against `today`, YYYY-MM-DD); a follow-up inherits what it leaves unsaid from `previous`. */
export function captureByRules(text: string, opts: { today: string; previous?: SessionContext | null }): CaptureResult {
  try {
    const today = parseToday(opts?.today);
    const a = analyse(text, today ?? ANY_DAY);
    // Without a valid today a relative range cannot be resolved; a wrong range is worse than none.
    if (!today) delete a.slots.timeRange;
    const previous = opts?.previous ?? null;
    settleBareReturns(a, previous);
    const { slots, inherited } = a.followUp && previous?.slots ? inherit(a.slots, previous.slots) : { slots: a.slots, inherited: [] };
    // A ranking direction means nothing without something to rank ("the most helpful", "at most").
    if (slots.order && !slots.dimension && slots.limit === undefined) delete slots.order;
    return { slots, inherited, source: 'rules' };
  } catch {
    return { slots: {}, inherited: [], source: 'rules' };
  }
}

/** Intent, confidence (0..1) and complexity; given `slots` (the reconciling pass) it trusts them over the bare text. */
export function detectByRules(text: string, opts?: { slots?: Slots }): DetectResult {
  try {
    const a = analyse(text, ANY_DAY);
    settleBareReturns(a, null);
    const given = opts?.slots;
    const slots = given ?? a.slots;
    let { intent, confidence } = classify(a, slots, given !== undefined);
    // A follow-up read without its context is a guess, however clear its words.
    if (!given && a.followUp) confidence = Math.min(confidence, 0.6);
    if (confidence < 0.35 && intent !== 'unknown') intent = 'unknown';
    return { intent, confidence: round2(confidence), complexity: estimateComplexity(text, slots), source: 'rules' };
  } catch {
    return { intent: 'unknown', confidence: 0, complexity: 'simple', source: 'rules' };
  }
}

function round2(n: number): number {
  return Math.round(Math.max(0, Math.min(1, n)) * 100) / 100;
}

function classify(a: Analysis, s: Slots, given: boolean): { intent: IntentOrUnknown; confidence: number } {
  const norm = a.norm;
  if (!/[\p{L}\p{N}]/u.test(norm)) return { intent: 'unknown', confidence: 0.1 };
  const hasOrderId = (s.entities?.orderIds?.length ?? 0) > 0;
  const tracking = ORDER_TRACKING.test(norm);
  // Strong: two strong-ish signals in the text, or the slots say so and the text has no weaker reading.
  const complaintStrong = s.complaint === true && (a.complaintScore >= 2 || (given && a.complaintScore === 0));
  const analyticSlots = [s.timeRange, s.dimension, s.limit, s.filters, s.entities?.skus, s.entities?.productIds, s.chart].filter((v) => v !== undefined).length;

  if (complaintStrong) return { intent: 'complaint', confidence: a.complaintScore >= 3 ? 0.93 : 0.88 };
  if (hasOrderId || tracking) return { intent: 'order_status', confidence: hasOrderId && tracking ? 0.95 : 0.9 };
  if (a.smallTalkOnly) return { intent: 'small_talk', confidence: 0.95 };
  if (OUT_OF_SCOPE.test(norm) && !s.topic && !(s.metric && (s.timeRange || s.dimension))) return { intent: 'out_of_scope', confidence: 0.9 };
  if (s.topic && !(s.metric && (s.timeRange || s.dimension))) return { intent: 'knowledge', confidence: 0.9 };
  if (s.metric) return { intent: 'analytics', confidence: Math.min(0.97, 0.85 + 0.04 * analyticSlots) };
  if (analyticSlots >= 2) return { intent: 'analytics', confidence: 0.82 };
  if (s.complaint) return { intent: 'complaint', confidence: 0.65 };
  if (MY_ORDER.test(norm)) return { intent: 'order_status', confidence: 0.6 };
  if (analyticSlots === 1) return { intent: 'analytics', confidence: given ? 0.6 : 0.5 };
  if (POLICY_WORDS.test(norm)) return { intent: 'knowledge', confidence: 0.6 };
  if (GREETING_PREFIX.test(norm)) return { intent: 'small_talk', confidence: 0.5 };
  // A question with nothing of the shop in it is most likely about something else.
  if (norm.split(' ').length >= 3 && /\?|^(?:what|who|how|why|when|where|which|can|could|is|are|do|does|tell|write|give)\b/.test(norm)) {
    return { intent: 'out_of_scope', confidence: 0.45 };
  }
  return { intent: 'unknown', confidence: 0.3 };
}

/** Complexity from cheap heuristics: length, number of questions, comparisons and slots; greetings and thanks are 'trivial'. */
export function estimateComplexity(text: string, slots?: Slots): Complexity {
  try {
    const norm = normalize(cleanText(text));
    if (!norm || isSmallTalkOnly(norm)) return 'trivial';
    const words = norm.split(' ').length;
    const s = slots ?? {};
    const slotKinds = [s.timeRange, s.metric, s.dimension, s.filters, s.entities, s.limit, s.topic, s.chart].filter((v) => v !== undefined).length;
    if (words <= 2 && slotKinds === 0) return 'trivial';
    const questions = Math.max(countMatches(cleanText(text), /\?/g), 1);
    let points = 0;
    if (words > 15) points++;
    if (words > 35) points++;
    if (words > 80) points++;
    if (questions >= 2) points++;
    if (questions >= 3) points++;
    if (/\b(?:vs\.?|versus|compared?|comparison|difference|against)\b/.test(norm)) points++;
    if (/\b(?:why|explain|analy[sz]e|analysis|insights?|recommend|recommendations?|strategy|forecast|predict|correlat\w*|drivers?)\b/.test(norm)) points++;
    if (slotKinds >= 4) points++;
    if (slotKinds >= 6) points++;
    if (/\b(?:report|comprehensive|everything|full analysis|overview|deep dive|in depth|in-depth)\b/.test(norm)) points += 2;
    if (points === 0) return 'simple';
    if (points <= 2) return 'moderate';
    if (points <= 4) return 'complex';
    return 'comprehensive';
  } catch {
    return 'simple';
  }
}

/** The slot signature lives with the contract (the workflow compares signatures itself). */
export { slotSignature } from '../../workflows/shared/slot-signature.ts';
