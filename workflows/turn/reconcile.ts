// The reconcile decision (sales-agent write-up): detect ran without the slots, in parallel with capture;
// run it again with them when its answer is shaky or the slots change the picture. Pure, so the golden-set
// report and the tests use the very function the workflow uses.
import type { CaptureResult, DetectResult, ReconcileReason, Slots } from '../shared/understanding.ts';

/** Thresholds of the reconcile pass (tenant setting `understanding`). */
export interface ReconcileSettings {
  /** Re-run detect below this confidence (seed: 0.7). */
  minConfidence: number;
  /** Slot keys whose appearance always re-runs detect (`orderIds`, `complaint`, …). */
  criticalSlots: string[];
  /** Re-run detect when more than this many new (not inherited) slots were captured (seed: 3). */
  maxNewSlots: number;
}

/** Slot keys present in `slots`, with entity kinds as their own keys (`orderIds`, `skus`, …). */
export function slotKeys(slots: Slots): string[] {
  const keys: string[] = [];
  for (const [key, value] of Object.entries(slots)) {
    if (value === undefined || value === false) continue;
    if (key === 'entities' && value && typeof value === 'object') {
      for (const [kind, ids] of Object.entries(value)) if (Array.isArray(ids) && ids.length) keys.push(kind);
      continue;
    }
    keys.push(key);
  }
  return keys;
}

/** Why detect should run again with the captured slots; empty when the first pass stands. */
export function reconcileReasons(detect: Pick<DetectResult, 'confidence'>, capture: Pick<CaptureResult, 'slots' | 'inherited'>, s: ReconcileSettings): ReconcileReason[] {
  const reasons: ReconcileReason[] = [];
  const keys = slotKeys(capture.slots);
  if (detect.confidence < s.minConfidence) reasons.push('low-confidence');
  if (keys.some((k) => s.criticalSlots.includes(k))) reasons.push('critical-slot');
  if (keys.filter((k) => !capture.inherited.includes(k)).length > s.maxNewSlots) reasons.push('many-slots');
  return reasons;
}
