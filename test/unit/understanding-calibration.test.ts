// The rules' confidence, calibrated on the labelled sets: per confidence bucket, how often the rules'
// reading (intent, and the labelled slots) agrees with the label. `understanding.modelMode: when-unsure`
// skips the model at or above `confidentAt`; its default is chosen from this table (README, "Understanding").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { captureByRules, detectByRules } from '../../activities/understanding/rules.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../workflows/shared/tenant-settings.ts';
import type { SessionContext, Slots } from '../../workflows/shared/understanding.ts';

interface Labelled {
  message: string;
  today: string;
  previous: SessionContext | null;
  intent: string;
  slots: Partial<Slots>;
}

const understanding = (JSON.parse(readFileSync(new URL('../golden/understanding.json', import.meta.url), 'utf8')) as { message: string; today: string; previous: SessionContext | null; expect: { intent: string; slots: Partial<Slots> } }[]).map(
  (c): Labelled => ({ message: c.message, today: c.today, previous: c.previous, intent: c.expect.intent, slots: c.expect.slots ?? {} }),
);
// The SQL set's questions are all analytics (their slots are judged by execution accuracy, elsewhere).
const sql = (JSON.parse(readFileSync(new URL('../golden/sql-questions.json', import.meta.url), 'utf8')) as { question: string; today: string }[]).map(
  (c): Labelled => ({ message: c.question, today: c.today, previous: null, intent: 'analytics', slots: {} }),
);

const BUCKETS = [0, 0.5, 0.7, 0.85, 0.9, 1.01];

/** Bucket → cases and agreements, for the rules' reading as the turn's first step computes it. */
export function calibrate(cases: Labelled[]): { from: number; to: number; cases: number; agree: number; misses: string[] }[] {
  const rows = BUCKETS.slice(0, -1).map((from, i) => ({ from, to: BUCKETS[i + 1]!, cases: 0, agree: 0, misses: [] as string[] }));
  for (const c of cases) {
    const { slots } = captureByRules(c.message, { today: c.today, previous: c.previous });
    const { intent, confidence } = detectByRules(c.message, { slots });
    const row = rows.find((r) => confidence >= r.from && confidence < r.to)!;
    row.cases++;
    const slotsAgree = Object.entries(c.slots).every(([k, v]) => isDeepStrictEqual(slots[k as keyof Slots], v));
    if (intent === c.intent && slotsAgree) row.agree++;
    else row.misses.push(`${c.message} → ${intent} (${confidence})`);
  }
  return rows;
}

describe('rules confidence calibration', () => {
  it('prints confidence bucket → agreement with the label, and the default threshold keeps agreement at 98 % or more', () => {
    const rows = calibrate([...understanding, ...sql]);
    console.log(`rules calibration on ${understanding.length + sql.length} labelled questions (understanding + SQL sets):`);
    for (const r of rows) {
      const rate = r.cases ? `${((100 * r.agree) / r.cases).toFixed(1)} %` : '-';
      console.log(`  confidence [${r.from.toFixed(2)}, ${Math.min(1, r.to).toFixed(2)}${r.to > 1 ? ']' : ')'}: ${r.cases} questions, agree ${r.agree} (${rate})${r.misses.length ? `; misses: ${r.misses.slice(0, 3).join('; ')}` : ''}`);
    }
    const { confidentAt } = DEFAULT_TENANT_SETTINGS.understanding;
    const sure = rows.filter((r) => r.from >= confidentAt);
    const cases = sure.reduce((a, r) => a + r.cases, 0);
    const agree = sure.reduce((a, r) => a + r.agree, 0);
    console.log(`  at or above confidentAt ${confidentAt}: ${agree}/${cases} agree (${((100 * agree) / cases).toFixed(1)} %); the model is asked for the other ${understanding.length + sql.length - cases}`);
    assert.ok(cases > 0 && agree / cases >= 0.98, `agreement at or above ${confidentAt} is ${agree}/${cases}`);
  });

  it('buckets below the threshold exist and are asked of the model: a vague question is not "sure"', () => {
    const { slots } = captureByRules('hmm, what about that thing?', { today: '2026-06-30' });
    const { confidence } = detectByRules('hmm, what about that thing?', { slots });
    assert.ok(confidence < DEFAULT_TENANT_SETTINGS.understanding.confidentAt, `confidence ${confidence}`);
  });
});
