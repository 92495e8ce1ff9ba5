// What a turn understands of a message: intent, complexity and slots. Shared by the workflow, the
// activities, the API and the offline model; imports nothing (it is bundled into workflow code).

/** Intents a turn can be classified as (`unknown` until something is detected). */
export const INTENTS = ['analytics', 'knowledge', 'order_status', 'complaint', 'small_talk', 'out_of_scope'] as const;
export type Intent = (typeof INTENTS)[number];
export type IntentOrUnknown = Intent | 'unknown';

/** Effort levels, from a greeting to a multi-part analysis. */
export const COMPLEXITIES = ['trivial', 'simple', 'moderate', 'complex', 'comprehensive'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

/** Metrics the analytics questions ask about (DESIGN: revenue and units exclude cancelled/returned orders). */
export const METRICS = ['revenue', 'orders', 'units', 'customers', 'aov', 'rating', 'returns', 'cancellations'] as const;
export type Metric = (typeof METRICS)[number];

/** Dimensions a metric can be broken down by. */
export const DIMENSIONS = ['category', 'product', 'region', 'country', 'channel', 'segment', 'status', 'day', 'week', 'month', 'quarter', 'year'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Policy topics of the knowledge base. */
export const TOPICS = ['shipping', 'returns', 'warranty', 'payments', 'loyalty', 'privacy'] as const;
export type Topic = (typeof TOPICS)[number];

/** A resolved time range: ISO dates (YYYY-MM-DD) in the tenant's time zone, `end` exclusive. */
export interface TimeRange {
  /** How the user said it, normalised: `last_week`, `this_month`, `2026-03`, `last_30_days`, `2025`, … */
  label: string;
  start: string;
  end: string;
}

/** Filters on the demo schema's low-cardinality columns (values as stored, e.g. region `Europe`, channel `web`). */
export interface SlotFilters {
  region?: string[];
  country?: string[];
  channel?: string[];
  segment?: string[];
  category?: string[];
  status?: string[];
}

/** Things the message names by id. */
export interface SlotEntities {
  orderIds?: number[];
  productIds?: number[];
  skus?: string[];
}

/** Slots captured from a message (and inherited from the session for a follow-up). All optional. */
export interface Slots {
  timeRange?: TimeRange;
  metric?: Metric;
  dimension?: Dimension;
  filters?: SlotFilters;
  entities?: SlotEntities;
  /** Top/bottom N. */
  limit?: number;
  /** `desc` for top/best/most, `asc` for bottom/worst/least. */
  order?: 'asc' | 'desc';
  /** Other numbers in the message (amounts, quantities), in order. */
  numbers?: number[];
  /** Policy topic of a knowledge question. */
  topic?: Topic;
  /** The user complains (damaged, late, angry, refund demand …). */
  complaint?: boolean;
  /** The user wants to buy or order something. */
  purchase?: boolean;
  /** The user asks for a chart or graph. */
  chart?: boolean;
  /**
   * Answer-changing qualifiers the other slots do not hold, canonical and sorted: `customers:new`,
   * `customers:returning`, `compare`, `aspect:cost`, `aspect:time`, `aspect:international`,
   * `action:cancel`, `action:exchange`, `action:change`. Part of the cache signature.
   */
  qualifiers?: string[];
}

/** Result of slot capture. */
export interface CaptureResult {
  slots: Slots;
  /** Slot keys inherited from the session's previous turn (a follow-up such as "and last month?"). */
  inherited: string[];
  /** `model` (structured output, validated) or `rules` (the deterministic fallback). */
  source: 'model' | 'rules';
}

/** Result of intent detection. */
export interface DetectResult {
  intent: IntentOrUnknown;
  /** 0..1 */
  confidence: number;
  complexity: Complexity;
  source: 'model' | 'rules';
}

/** Why detect was run a second time with the captured slots. */
export type ReconcileReason = 'low-confidence' | 'critical-slot' | 'many-slots';

/** What the turn understood, as reported in `done`. */
export interface Understanding {
  intent: IntentOrUnknown;
  confidence: number;
  complexity: Complexity;
  slots: Slots;
  language: string;
  reconciled: boolean;
  reconcileReasons: ReconcileReason[];
  /** Where capture and detect came from (`rules` when the model failed or timed out). */
  source: { capture: 'model' | 'rules' | 'none'; detect: 'model' | 'rules' | 'none' };
}

/** The session's state a follow-up builds on: the previous turn's intent and slots. */
export interface SessionContext {
  intent: IntentOrUnknown;
  slots: Slots;
}
