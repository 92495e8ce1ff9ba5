// What an understanding asks of the rest of the turn: data (the SQL agent), documents (retrieval), and the
// answer's effort. The same function reads the rules' understanding (to start work before the model's
// reading is back) and the final one (to check that work is still what the turn needs). Pure.
import type { OpenTurnOutput } from '../../activities/open-turn/open.ts';
import { EFFORT_BY_COMPLEXITY, type Effort } from '../shared/effort.ts';
import type { TenantSettings } from '../shared/tenant-settings.ts';
import { slotSignature } from '../shared/slot-signature.ts';
import type { Complexity, IntentOrUnknown, Slots } from '../shared/understanding.ts';

/** The work one understanding of a question calls for. */
export interface Route {
  intent: IntentOrUnknown;
  slots: Slots;
  complexity: Complexity;
  /** Intent and slot signature: what a cached or speculative answer must match. */
  signature: string;
  effort: Effort;
  /** An analytics question with something to measure or break down: the SQL agent runs. */
  wantsData: boolean;
  /** An analytics question with nothing to measure: no query to write, the answer asks instead. */
  asksForMetric: boolean;
  /** A policy question, or one naming a topic, with passages to retrieve at this complexity. */
  wantsDocs: boolean;
  /** The documents are wanted but the question is trivial: no retrieval. */
  docsTrivial: boolean;
}

/** The route of an understanding. */
export function routeOf(u: { intent: IntentOrUnknown; slots: Slots; complexity: Complexity }): Route {
  const effort = EFFORT_BY_COMPLEXITY[u.complexity];
  const docs = u.intent === 'knowledge' || Boolean(u.slots.topic);
  const analytics = u.intent === 'analytics';
  const measurable = Boolean(u.slots.metric || u.slots.dimension);
  return {
    intent: u.intent,
    slots: u.slots,
    complexity: u.complexity,
    signature: slotSignature(u.intent, u.slots),
    effort,
    wantsData: analytics && measurable,
    asksForMetric: analytics && !measurable,
    wantsDocs: docs && effort.topK > 0,
    docsTrivial: docs && effort.topK === 0,
  };
}

/** Whether work started on `a` answers `b`: the same intent and slot signature (the answer's effort may differ, as in a cache hit). */
export function sameRoute(a: Route, b: Route): boolean {
  return a.signature === b.signature;
}

/** Whether documents retrieved for `a` serve `b`: both want them, with the same topic and passage count. */
export function sameDocs(a: Route, b: Route): boolean {
  return a.wantsDocs && b.wantsDocs && a.effort.topK === b.effort.topK && a.slots.topic === b.slots.topic;
}

/** The rules' reading as a route, when the turn's first step kept it whole (older turns kept only intent and signature). */
export function rulesRoute(opened: OpenTurnOutput): Route | null {
  const r = opened.rules;
  if (!r || r.confidence === undefined || !r.slots || !r.complexity) return null;
  return routeOf({ intent: r.intent, slots: r.slots, complexity: r.complexity });
}

/** Whether the model's capture and detect run (`understanding.modelMode`); a sure reading of the rules stands alone. */
export function modelAsked(settings: Pick<TenantSettings, 'understanding'>, rules: OpenTurnOutput['rules']): boolean {
  const { modelMode = 'always', confidentAt = 1 } = settings.understanding;
  if (modelMode === 'always' || !rules || rules.confidence === undefined || !rules.slots) return true;
  return rules.intent === 'unknown' || rules.confidence < confidentAt;
}
