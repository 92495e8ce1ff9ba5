// Validation of what a model answers to the two understanding tasks. A model's reply is untrusted text:
// it may wrap the JSON in fences or prose, invent keys, or get types wrong. Anything that does not fit
// the types of workflows/shared/understanding.ts exactly is rejected (null), and the caller falls back
// to the rules; unknown keys are dropped rather than failing, since they carry nothing we could use.
import { z } from 'zod';
import { CATEGORIES, CHANNELS, ORDER_STATUSES, REGIONS, SEGMENTS } from '../../workflows/shared/shop-vocabulary.ts';
import { COMPLEXITIES, DIMENSIONS, INTENTS, METRICS, TOPICS, type Complexity, type IntentOrUnknown, type Slots } from '../../workflows/shared/understanding.ts';

/** Filter values as stored in the tenant schema; the prompt lists the same ones. */
export const FILTER_VALUES = {
  region: REGIONS,
  channel: CHANNELS,
  segment: SEGMENTS,
  category: CATEGORIES,
  status: ORDER_STATUSES,
} as const;

/** The top-level slot keys, the only values `inherited` may name. */
export const SLOT_KEYS = [
  'timeRange',
  'metric',
  'dimension',
  'filters',
  'entities',
  'limit',
  'order',
  'numbers',
  'topic',
  'complaint',
  'purchase',
  'chart',
  'qualifiers',
] as const satisfies readonly (keyof Slots)[];

const isoDate = z.iso.date();
const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
// Values outside these lists would only make a query return nothing; better to let the rules decide.
const values = <T extends readonly [string, ...string[]]>(allowed: T) => z.array(z.enum(allowed)).optional();

const timeRangeSchema = z
  .object({ label: z.string().trim().min(1).max(40), start: isoDate, end: isoDate })
  // ISO dates compare correctly as strings; `end` is exclusive, so an empty range is a mistake.
  .refine((r) => r.start < r.end, { message: 'start must be before end (end is exclusive)' });

const slotsSchema = z.object({
  timeRange: timeRangeSchema.optional(),
  metric: z.enum(METRICS).optional(),
  dimension: z.enum(DIMENSIONS).optional(),
  filters: z
    .object({
      region: values(FILTER_VALUES.region),
      country: z.array(z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code')).optional(),
      channel: values(FILTER_VALUES.channel),
      segment: values(FILTER_VALUES.segment),
      category: values(FILTER_VALUES.category),
      status: values(FILTER_VALUES.status),
    })
    .optional(),
  entities: z
    .object({
      orderIds: z.array(positiveInt).optional(),
      productIds: z.array(positiveInt).optional(),
      skus: z.array(z.string().trim().min(1).max(64)).optional(),
    })
    .optional(),
  limit: positiveInt.max(1000).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  numbers: z.array(z.number().finite()).optional(),
  topic: z.enum(TOPICS).optional(),
  complaint: z.boolean().optional(),
  purchase: z.boolean().optional(),
  chart: z.boolean().optional(),
  qualifiers: z.array(z.string().regex(/^[a-z]+(?::[a-z]+)?$/, 'a canonical qualifier such as customers:new')).max(10).optional(),
}) satisfies z.ZodType<Slots>;

/** Reply to `TASK: capture_slots`. */
export const captureOutputSchema = z.object({
  slots: slotsSchema,
  // Optional on the wire: the caller computes it when a model leaves it out.
  inherited: z.array(z.string()).optional(),
});

/** Reply to `TASK: detect_intent`. */
export const detectOutputSchema = z.object({
  intent: z.enum([...INTENTS, 'unknown']),
  confidence: z.number().min(0).max(1),
  complexity: z.enum(COMPLEXITIES),
});

/** A validated capture reply; `inheritedGiven` is false when the reply had no `inherited` key at all. */
export interface ParsedCapture {
  slots: Slots;
  inherited: string[];
  inheritedGiven: boolean;
}

/** A validated detect reply. */
export interface ParsedDetect {
  intent: IntentOrUnknown;
  confidence: number;
  complexity: Complexity;
}

/** The first balanced `{…}` in the text that parses as a JSON object (fences and prose around it ignored), or undefined. */
export function firstJsonObject(text: string): Record<string, unknown> | undefined {
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    const end = balancedEnd(text, start);
    if (end === -1) return undefined; // unbalanced from here on: no later `{` can close either
    try {
      const value: unknown = JSON.parse(text.slice(start, end + 1));
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // Not JSON (e.g. `{like this}` in prose): try the next brace.
    }
  }
  return undefined;
}

/** Index of the `}` closing the `{` at `start`, skipping braces inside strings; -1 when it never closes. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Models often write `"metric": null` for "not said"; null means absent here, at any depth. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === null ? [] : [[k, withoutNulls(v)]])));
}

/** Drops empty arrays and objects, so `{"filters": {}}` and no filters are the same slots. */
function compact(slots: Slots): Slots {
  const prune = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.length ? value : undefined;
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value).flatMap(([k, v]) => {
      const pruned = prune(v);
      return pruned === undefined ? [] : [[k, pruned] as const];
    });
    return entries.length ? Object.fromEntries(entries) : undefined;
  };
  return (prune(slots) ?? {}) as Slots;
}

/** Parses a reply to `TASK: capture_slots`; null when there is no JSON object or it does not fit the slot types. */
export function parseCaptureOutput(text: string): ParsedCapture | null {
  const json = firstJsonObject(text);
  if (!json) return null;
  const parsed = captureOutputSchema.safeParse(withoutNulls(json));
  if (!parsed.success) return null;
  const inherited = parsed.data.inherited;
  return {
    slots: compact(parsed.data.slots),
    // Unknown names are dropped like unknown keys: they could never match a slot.
    inherited: [...new Set((inherited ?? []).filter((k): k is (typeof SLOT_KEYS)[number] => (SLOT_KEYS as readonly string[]).includes(k)))],
    inheritedGiven: inherited !== undefined,
  };
}

/** Parses a reply to `TASK: detect_intent`; null when there is no JSON object or it does not fit. */
export function parseDetectOutput(text: string): ParsedDetect | null {
  const json = firstJsonObject(text);
  if (!json) return null;
  const parsed = detectOutputSchema.safeParse(withoutNulls(json));
  return parsed.success ? parsed.data : null;
}
