// Follow-ups ("and last month?", "what about Europe?"): recognising one, and inheriting what it leaves
// unsaid from the session's previous turn.
import type { SlotFilters, Slots } from '../../workflows/shared/understanding.ts';
import { COUNTRIES_BY_REGION, REGIONS } from '../../workflows/shared/shop-vocabulary.ts';
import { FILTER_KEYS, FOLLOW_UP_ANAPHORA, FOLLOW_UP_START, type FilterKey, QUESTION_START } from './lexicon.ts';
import { canonicalFilters } from './slots.ts';

// Details that change the answer but have no slot of their own: "new" vs "returning" customers, "shipping
// cost" vs "shipping time", "return" vs "exchange". Without them such near misses share a cache signature.
export const QUALIFIERS: [string, RegExp][] = [
  ['customers:new', /\b(?:new|first[- ]time|newly acquired|first)\s+(?:customers?|buyers?|shoppers?|clients?)\b/],
  ['customers:returning', /\b(?:returning|repeat|existing|loyal|recurring)\s+(?:customers?|buyers?|shoppers?|clients?)\b/],
  ['compare', /\b(?:compared?|comparison|versus|vs|against|than (?:last|the previous|previous|before)|month over month|year over year|mom|yoy)\b/],
  ['aspect:cost', /\b(?:cost|costs|price|prices|priced|fee|fees|charge|charges|charged|how much (?:is|does|do|are|will))\b/],
  ['aspect:time', /\b(?:how long|how fast|how quickly|how soon|when will|delivery times?|shipping times?|transit times?|arrive|arrives|take to|business days|days? to)\b/],
  ['aspect:international', /\b(?:international(?:ly)?|abroad|overseas|worldwide|other countries|outside the)\b/],
  ['action:cancel', /\bcancel(?! ?l?ed)(?:ling|ing)?\b/],
  ['action:exchange', /\b(?:exchange|exchanges|swap|swapping)\b/],
  ['action:change', /\b(?:change|update|modify|edit)\s+(?:my|the|an?)\s+(?:address|order|payment|delivery)\b/],
];

export function extractQualifiers(norm: string): string[] {
  return QUALIFIERS.filter(([, re]) => re.test(norm)).map(([name]) => name).sort();
}

// "Thanks! And what about last year?": the pleasantry does not make the rest stand alone.
export const LEADING_PLEASANTRY = /^(?:(?:hi+|hey+|hello|thanks?|thank you|ok(?:ay)?|great|cool|nice|perfect|got it)\b[ ,!.]*)+/;

export function looksLikeFollowUp(text: string, slots: Slots, bareReturns: boolean): boolean {
  const norm = text.replace(LEADING_PLEASANTRY, '');
  if (!norm) return false;
  if (FOLLOW_UP_START.test(norm) || FOLLOW_UP_ANAPHORA.test(norm)) return true;
  // A bare fragment ("Europe?", "last month", "by channel") has nothing to stand on but the previous turn.
  const words = norm.split(' ').length;
  if (words > 4 || slots.metric || slots.entities || QUESTION_START.test(norm)) return false;
  if (slots.dimension && (slots.limit !== undefined || slots.order)) return false;
  return Boolean(slots.timeRange || slots.dimension || slots.filters || slots.limit !== undefined || slots.topic || bareReturns);
}

export const INHERITED_ORDER = ['timeRange', 'metric', 'dimension', 'filters', 'entities', 'limit', 'order', 'topic'] as const;

/** The slots of a follow-up: its own, plus what it leaves unsaid from the previous turn. */
export function inherit(own: Slots, prev: Slots): { slots: Slots; inherited: string[] } {
  const slots: Slots = { ...own };
  const inherited = new Set<string>();
  const switchesToKnowledge = own.topic !== undefined;
  const switchesToOrder = (own.entities?.orderIds?.length ?? 0) > 0;
  const analytic = !switchesToKnowledge && !switchesToOrder;

  if (analytic) {
    for (const key of ['metric', 'timeRange', 'limit', 'order', 'qualifiers'] as const) {
      if (slots[key] === undefined && prev[key] !== undefined) {
        (slots as Record<string, unknown>)[key] = prev[key];
        inherited.add(key);
      }
    }
    // "what about Europe?" after "revenue by region": one region needs no breakdown by region.
    const ownFilterKeys = Object.keys(own.filters ?? {});
    if (!slots.dimension && prev.dimension && !ownFilterKeys.includes(prev.dimension)) {
      slots.dimension = prev.dimension;
      inherited.add('dimension');
    }
    const merged = mergeFilters(own.filters, prev.filters);
    if (merged.inherited) {
      slots.filters = merged.filters;
      inherited.add('filters');
    }
  }
  if (!own.entities && prev.entities && !switchesToKnowledge) {
    slots.entities = prev.entities;
    inherited.add('entities');
  }
  if (!own.topic && prev.topic && !own.metric && !switchesToOrder) {
    slots.topic = prev.topic;
    inherited.add('topic');
  }
  return { slots, inherited: INHERITED_ORDER.filter((k) => inherited.has(k)) };
}

/** Own filter keys replace the previous ones; a new country drops a region it is not in, and vice versa. */
export function mergeFilters(own: SlotFilters | undefined, prev: SlotFilters | undefined): { filters?: SlotFilters; inherited: boolean } {
  if (!prev) return { filters: own, inherited: false };
  const out: Partial<Record<FilterKey, string[]>> = { ...own };
  let inherited = false;
  for (const key of FILTER_KEYS) {
    const values = prev[key];
    if (!values?.length || out[key]) continue;
    if (key === 'region' && own?.country && !values.some((r) => own.country?.some((c) => regionOf(c) === r))) continue;
    if (key === 'country' && own?.region && !values.some((c) => own.region?.includes(regionOf(c) ?? ''))) continue;
    out[key] = [...values];
    inherited = true;
  }
  const filters = canonicalFilters(out);
  return { filters: Object.keys(filters).length ? filters : undefined, inherited };
}

export function regionOf(country: string): string | undefined {
  return REGIONS.find((r) => COUNTRIES_BY_REGION[r].includes(country));
}
