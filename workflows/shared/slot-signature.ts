// The slot signature: what in an understood question changes its answer. Two questions may share a
// cached answer only when their signatures are equal. Pure, so the workflow compares signatures itself.
import type { SlotFilters, Slots } from './understanding.ts';

// Sorted, so the signature never depends on the order filters were captured in.
const FILTER_KEYS: (keyof SlotFilters)[] = ['category', 'channel', 'country', 'region', 'segment', 'status'];

/** Canonical, order-independent key of everything in (intent, slots) that changes an answer; equal keys may share a cached answer. */
export function slotSignature(intent: string, slots: Slots): string {
  const s = slots ?? {};
  const sorted = <T>(values: readonly T[] | undefined, cmp?: (a: T, b: T) => number): T[] | undefined =>
    values?.length ? [...new Set(values)].sort(cmp) : undefined;
  const filters: Record<string, string[]> = {};
  for (const key of FILTER_KEYS) {
    const values = sorted(s.filters?.[key]);
    if (values) filters[key] = values;
  }
  const byNumber = (a: number, b: number): number => a - b;
  const entities: Record<string, unknown> = {};
  const orderIds = sorted(s.entities?.orderIds, byNumber);
  const productIds = sorted(s.entities?.productIds, byNumber);
  const skus = sorted(s.entities?.skus?.map((k) => k.toUpperCase()));
  if (orderIds) entities.orderIds = orderIds;
  if (productIds) entities.productIds = productIds;
  if (skus) entities.skus = skus;
  // Fixed key order and undefined-dropping JSON: the same meaning always serialises the same way.
  return JSON.stringify({
    intent,
    metric: s.metric,
    dimension: s.dimension,
    time: s.timeRange ? `${s.timeRange.start}..${s.timeRange.end}` : undefined,
    filters: Object.keys(filters).length ? filters : undefined,
    entities: Object.keys(entities).length ? entities : undefined,
    limit: s.limit,
    order: s.order,
    topic: s.topic,
    complaint: s.complaint === true ? true : undefined,
    qualifiers: sorted(s.qualifiers),
  });
}
