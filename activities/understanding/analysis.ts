// One pass over a message that every rule shares: the slots it states, its flags and scores.
import type { SessionContext, Slots } from '../../workflows/shared/understanding.ts';
import { ANALYTICS_PHRASING, BARE_RETURNS, CHART_RE, CONDITIONAL, FIRST_PERSON, GENERAL_QUESTION, GENERAL_QUESTION_ALL, PURCHASE_RE } from './lexicon.ts';
import { Masked, cleanText, normalize } from './text.ts';
import { extractTimeRange, parseToday, type Today } from './time-range.ts';
import { complaintScore, countMatches, extractEntities, extractFilters, extractMetric, extractNumbers, extractRanking, extractStatuses, extractTopic, isSmallTalkOnly } from './slots.ts';
import { extractQualifiers, looksLikeFollowUp } from './follow-up.ts';

// Analysis shared by all exports

export interface Analysis {
  norm: string;
  slots: Slots;
  followUp: boolean;
  smallTalkOnly: boolean;
  complaintScore: number;
  firstPerson: boolean;
  /** "returns"/"refunds" alone, undecided between the metric and the topic. */
  bareReturns: boolean;
}

// Relative dates only need some day to resolve against when the caller wants presence, not values.
export const ANY_DAY = parseToday('2000-01-03') as Today;

export function analyse(raw: string, today: Today): Analysis {
  const original = cleanText(raw);
  const norm = normalize(original);
  const work = new Masked(norm);
  const slots: Slots = {};

  const entities = extractEntities(work, original);
  const timeRange = extractTimeRange(work, today);
  const topic = extractTopic(work);
  const ranking = extractRanking(work);
  // On a copy: "how many business customers" is the metric and still the segment filter.
  const { metric, strong } = extractMetric(new Masked(work.text));
  const bareReturns = countMatches(work.text, BARE_RETURNS) > 0;
  if (bareReturns) work.each(BARE_RETURNS, () => true);
  const filters = extractFilters(work, original);
  const statuses = extractStatuses(norm, metric);
  if (statuses.length) filters.status = statuses;
  const numbers = extractNumbers(work.text);

  if (timeRange) slots.timeRange = timeRange;
  if (metric) slots.metric = metric;
  if (ranking.dimension) slots.dimension = ranking.dimension;
  if (Object.keys(filters).length) slots.filters = filters;
  if (Object.keys(entities).length) slots.entities = entities;
  if (ranking.limit !== undefined) slots.limit = ranking.limit;
  if (ranking.order) slots.order = ranking.order;
  if (numbers.length) slots.numbers = numbers;
  if (topic) slots.topic = topic;
  // A policy question's incidental nouns ("free shipping on orders over $50") are not a metric.
  if (topic && slots.metric && !slots.timeRange && !slots.dimension && slots.limit === undefined) delete slots.metric;

  const score = complaintScore(norm);
  // "can I" / "how do I" frame a general question; the customer's own voice is elsewhere ("I received").
  const firstPerson = FIRST_PERSON.test(norm.replace(GENERAL_QUESTION_ALL, ' '));
  const conditional = CONDITIONAL.test(norm);
  const general = GENERAL_QUESTION.test(norm);
  const complaint =
    !conditional && (score >= 2 ? firstPerson || (!general && !strong) : score === 1 && firstPerson && !general);
  if (complaint) slots.complaint = true;
  if (PURCHASE_RE.test(norm)) slots.purchase = true;
  if (CHART_RE.test(norm)) slots.chart = true;
  const qualifiers = extractQualifiers(norm);
  if (qualifiers.length) slots.qualifiers = qualifiers;

  const smallTalkOnly = isSmallTalkOnly(norm);
  const followUp = !smallTalkOnly && looksLikeFollowUp(norm, slots, bareReturns);
  return { norm, slots, followUp, smallTalkOnly, complaintScore: score, firstPerson, bareReturns };
}

/** Settles "returns"/"refunds" alone: the metric when the question (or the turn it follows) is analytics. */
export function settleBareReturns(a: Analysis, previous: SessionContext | null): void {
  if (!a.bareReturns || a.slots.metric || a.slots.topic) return;
  const s = a.slots;
  const analyticsHere = Boolean(s.timeRange || s.dimension || s.limit !== undefined || ANALYTICS_PHRASING.test(a.norm));
  const prevAnalytics = a.followUp && previous !== null && (previous.intent === 'analytics' || previous.slots.metric !== undefined);
  const prevKnowledge = a.followUp && previous !== null && (previous.intent === 'knowledge' || previous.slots.topic !== undefined);
  if (prevAnalytics || (analyticsHere && !prevKnowledge)) s.metric = 'returns';
  else s.topic = 'returns';
}
