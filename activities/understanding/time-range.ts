// Time ranges of a message ("last week", "March 2025", "Q3"), resolved on calendar day numbers against
// the tenant's today: UTC arithmetic on calendar dates, no time zone involved.
import type { TimeRange } from '../../workflows/shared/understanding.ts';
import { MONTH, MONTHS, NUM, ORDINAL } from './lexicon.ts';
import { Masked, toNumber } from './text.ts';

// Dates: day numbers since 1970-01-01 (UTC arithmetic on calendar dates, no time zone involved).

export const DAY_MS = 86_400_000;

export function dayOf(y: number, m: number, d: number): number {
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}
export function isoOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
export function monthStart(y: number, m: number): number {
  // Date.UTC normalises month overflow both ways (month 0 = December of the year before).
  return Math.round(Date.UTC(y, m - 1, 1) / DAY_MS);
}
export function validDate(y: number, m: number, d: number): boolean {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export interface Today {
  day: number;
  y: number;
  m: number;
  d: number;
  /** Start of the ISO week (Monday). */
  weekStart: number;
  quarter: number;
}

export function parseToday(today: string | undefined): Today | null {
  const m = typeof today === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(today) : null;
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDate(y, mo, d)) return null;
  const day = dayOf(y, mo, d);
  // 1970-01-01 was a Thursday: +3 makes Monday 0.
  const weekday = (((day + 3) % 7) + 7) % 7;
  return { day, y, m: mo, d, weekStart: day - weekday, quarter: Math.floor((mo - 1) / 3) + 1 };
}

export function range(label: string, start: number, end: number): TimeRange {
  return { label, start: isoOf(start), end: isoOf(end) };
}
export function explicitRange(start: number, lastDay: number): TimeRange {
  const [a, b] = start <= lastDay ? [start, lastDay] : [lastDay, start];
  return range(`${isoOf(a)}..${isoOf(b)}`, a, b + 1);
}
export function monthRange(y: number, m: number): TimeRange {
  return range(`${y}-${String(m).padStart(2, '0')}`, monthStart(y, m), monthStart(y, m + 1));
}
export function quarterRange(y: number, q: number): TimeRange {
  return range(`${y}-Q${q}`, monthStart(y, q * 3 - 2), monthStart(y, q * 3 + 1));
}
export function yearRange(y: number): TimeRange {
  return range(String(y), dayOf(y, 1, 1), dayOf(y + 1, 1, 1));
}
/** The year of the most recent `month`/`day` not after today ("in March", "Jan 5" without a year). */
export function recentYear(t: Today, month: number, day = 1): number {
  return month < t.m || (month === t.m && day <= t.d) ? t.y : t.y - 1;
}
export function yearOf(t: Today, year: string | undefined, rel: string | undefined, fallback: number): number {
  if (year) return Number(year);
  if (rel === 'last' || rel === 'previous') return t.y - 1;
  if (rel === 'this' || rel === 'current') return t.y;
  if (rel === 'next') return t.y + 1;
  return fallback;
}

export type Unit = 'day' | 'week' | 'month' | 'quarter' | 'year';
export function unitOf(word: string): Unit {
  return word.replace(/s$/, '') as Unit;
}

/** The calendar unit `back` steps before the current one (0 = this week/month/…). */
export function calendarUnit(t: Today, unit: Unit, back: number): [number, number] {
  switch (unit) {
    case 'day':
      return [t.day - back, t.day - back + 1];
    case 'week':
      return [t.weekStart - 7 * back, t.weekStart - 7 * back + 7];
    case 'month':
      return [monthStart(t.y, t.m - back), monthStart(t.y, t.m - back + 1)];
    case 'quarter': {
      const first = t.quarter * 3 - 2 - 3 * back;
      return [monthStart(t.y, first), monthStart(t.y, first + 3)];
    }
    case 'year':
      return [dayOf(t.y - back, 1, 1), dayOf(t.y - back + 1, 1, 1)];
  }
}

export interface TimeRule {
  re: RegExp;
  resolve: (m: RegExpExecArray, t: Today) => TimeRange | null;
}

export const ISO = '(\\d{4})-(\\d{2})-(\\d{2})';
export function isoDay(y?: string, m?: string, d?: string): number | null {
  const [yy, mm, dd] = [Number(y), Number(m), Number(d)];
  return validDate(yy, mm, dd) ? dayOf(yy, mm, dd) : null;
}
export function monthNum(word: string | undefined): number {
  return MONTHS[word ?? ''] ?? 0;
}
export const PREPOSITION_BEFORE = /\b(?:in|during|for|since|of|from|until|till|to|between|through|and|by|before|after)\s*$/;

// In priority order; each match is masked before the next rule runs, so "the week before last" is never
// also "last week", "March 2026" never also "2026", and "in march last year" never also "last year".
export const TIME_RULES: TimeRule[] = [
  {
    re: new RegExp(`\\b${ISO}\\s*(?:to|until|till|through|thru|and|-|\\.\\.)\\s*${ISO}\\b`, 'g'),
    resolve: (m) => {
      const a = isoDay(m[1], m[2], m[3]);
      const b = isoDay(m[4], m[5], m[6]);
      return a !== null && b !== null ? explicitRange(a, b) : null;
    },
  },
  {
    // "Jan 5 to Jan 20", "between March 3 and 10", "from jan 5th, 2026 until feb 2"
    re: new RegExp(`\\b(${MONTH}) (\\d{1,2})${ORDINAL}(?:,? (\\d{4}))? (?:to|until|till|through|and|-) (?:(${MONTH}) )?(\\d{1,2})${ORDINAL}(?:,? (\\d{4}))?(?!\\d)`, 'g'),
    resolve: (m, t) => {
      const m1 = monthNum(m[1]);
      const d1 = Number(m[2]);
      const m2 = m[4] ? monthNum(m[4]) : m1;
      const d2 = Number(m[5]);
      const y1 = m[3] ? Number(m[3]) : m[6] && m2 >= m1 ? Number(m[6]) : recentYear(t, m1, d1);
      const y2 = m[6] ? Number(m[6]) : m2 < m1 ? y1 + 1 : y1;
      if (!validDate(y1, m1, d1) || !validDate(y2, m2, d2)) return null;
      return explicitRange(dayOf(y1, m1, d1), dayOf(y2, m2, d2));
    },
  },
  {
    // "5 Jan to 20 Jan"
    re: new RegExp(`\\b(\\d{1,2})${ORDINAL}(?: of)? (${MONTH}) (?:to|until|till|through|and|-) (\\d{1,2})${ORDINAL}(?: of)? (${MONTH})(?:,? (\\d{4}))?\\b`, 'g'),
    resolve: (m, t) => {
      const [d1, m1, d2, m2] = [Number(m[1]), monthNum(m[2]), Number(m[3]), monthNum(m[4])];
      const y2 = m[5] ? Number(m[5]) : recentYear(t, m2, d2);
      const y1 = m2 < m1 ? y2 - 1 : y2;
      if (!validDate(y1, m1, d1) || !validDate(y2, m2, d2)) return null;
      return explicitRange(dayOf(y1, m1, d1), dayOf(y2, m2, d2));
    },
  },
  {
    // "from March to May", "between jan and mar 2026"
    re: new RegExp(`\\b(?:from|between) (${MONTH})(?: (\\d{4}))? (?:to|until|till|through|and|-) (${MONTH})(?: (\\d{4}))?\\b`, 'g'),
    resolve: (m, t) => {
      const [m1, m2] = [monthNum(m[1]), monthNum(m[3])];
      const y1 = m[2] ? Number(m[2]) : m[4] ? Number(m[4]) - (m2 < m1 ? 1 : 0) : recentYear(t, m1);
      const y2 = m[4] ? Number(m[4]) : m2 < m1 ? y1 + 1 : y1;
      if (!validDate(y1, m1, 1) || !validDate(y2, m2, 1)) return null;
      return explicitRange(monthStart(y1, m1), monthStart(y2, m2 + 1) - 1);
    },
  },
  {
    re: new RegExp(`\\b${ISO}\\b`, 'g'),
    resolve: (m) => {
      const a = isoDay(m[1], m[2], m[3]);
      return a === null ? null : range(isoOf(a), a, a + 1);
    },
  },
  {
    // "March 14", "march 14th, 2025", "14 March", "the 14th of march"
    re: new RegExp(`\\b(?:(${MONTH}) (\\d{1,2})${ORDINAL}|(\\d{1,2})${ORDINAL} (?:of )?(${MONTH}))(?:,? (\\d{4}))?(?![\\d:])`, 'g'),
    resolve: (m, t) => {
      const month = monthNum(m[1] ?? m[4]);
      const day = Number(m[2] ?? m[3]);
      const y = m[5] ? Number(m[5]) : recentYear(t, month, day);
      if (!validDate(y, month, day)) return null;
      const a = dayOf(y, month, day);
      return range(isoOf(a), a, a + 1);
    },
  },
  {
    re: /\b(?:the )?(week|month|quarter|year) before last\b/g,
    resolve: (m, t) => {
      const unit = unitOf(m[1] ?? '');
      const [a, b] = calendarUnit(t, unit, 2);
      return range(`${unit}_before_last`, a, b);
    },
  },
  {
    re: /\bsince (?:the )?(?:start|beginning) of (?:the |this )?(week|month|quarter|year)\b/g,
    resolve: (m, t) => {
      const [start] = calendarUnit(t, unitOf(m[1] ?? ''), 0);
      return range(`since_${isoOf(start)}`, start, t.day + 1);
    },
  },
  {
    // "H1", "first half of 2025": bare, the most recent half that has begun.
    re: /\b(?:h([12])|(first|second) half)(?: (?:of )?(\d{4})| (?:of )?(last|this|previous) year)?\b/g,
    resolve: (m, t) => {
      const h = m[1] ? Number(m[1]) : m[2] === 'first' ? 1 : 2;
      const y = yearOf(t, m[3], m[4], h === 1 || t.m >= 7 ? t.y : t.y - 1);
      if (y < 1900 || y > 2200) return null;
      return range(`${y}-H${h}`, monthStart(y, h * 6 - 5), monthStart(y, h * 6 + 1));
    },
  },
  {
    // "03/2026", "3/2026": a month (day/month/year dates are too ambiguous to guess).
    re: /\b(0?[1-9]|1[0-2])\/(\d{4})\b/g,
    resolve: (m) => {
      const y = Number(m[2]);
      return y >= 1900 && y <= 2200 ? monthRange(y, Number(m[1])) : null;
    },
  },
  {
    re: /\b(?:the )?day before yesterday\b/g,
    resolve: (_m, t) => range('day_before_yesterday', t.day - 2, t.day - 1),
  },
  {
    // Days are rolling and include today ("last 7 days" = today and the 6 before); weeks, months, quarters
    // and years are whole calendar units before the current one ("last 3 months" in June = March–May).
    re: new RegExp(`\\b(?:last|past|previous|prior|trailing|recent|preceding)(?: (${NUM}))? (days?|weeks?|months?|quarters?|years?)\\b`, 'g'),
    resolve: (m, t) => {
      const n = m[1] === undefined ? undefined : toNumber(m[1]);
      if (n === undefined || n < 1 || n > 3660) return null;
      const unit = unitOf(m[2] ?? '');
      if (unit === 'day') return range(`last_${n}_days`, t.day - n + 1, t.day + 1);
      const [start] = calendarUnit(t, unit, n);
      const [end] = calendarUnit(t, unit, 0);
      return range(n === 1 ? `last_${unit}` : `last_${n}_${unit}s`, start, end);
    },
  },
  {
    re: new RegExp(`\\b(${NUM}|a) (day|week|month|quarter|year)s? ago\\b`, 'g'),
    resolve: (m, t) => {
      const n = m[1] === 'a' ? 1 : toNumber(m[1]);
      if (n === undefined || n < 1 || n > 3660) return null;
      const unit = unitOf(m[2] ?? '');
      const [a, b] = calendarUnit(t, unit, n);
      if (unit === 'day') return range(isoOf(a), a, b);
      const label = n === 1 ? `last_${unit}` : n === 2 ? `${unit}_before_last` : `${n}_${unit}s_ago`;
      return range(label, a, b);
    },
  },
  {
    re: /\b(?:year[- ]to[- ]date|ytd|so far this year|this year so far|(month|quarter)[- ]to[- ]date|mtd|qtd|so far this (month|quarter)|this (month|quarter) so far)\b/g,
    resolve: (m, t) => {
      const unit = m[1] ?? m[2] ?? m[3] ?? (m[0] === 'mtd' ? 'month' : m[0] === 'qtd' ? 'quarter' : 'year');
      const [start] = calendarUnit(t, unit as Unit, 0);
      return range(unit === 'month' ? 'mtd' : unit === 'quarter' ? 'qtd' : 'ytd', start, t.day + 1);
    },
  },
  {
    // "in March", "March 2026", "march of last year", "in May" (a bare "may" needs a preposition or a year)
    re: new RegExp(`\\b(${MONTH})(?: of)?(?:,? (\\d{4})| (last|this|previous|next) year)?\\b`, 'g'),
    resolve: (m, t) => {
      const month = monthNum(m[1]);
      // "may" is mostly the verb, "mar"/"sep" mostly other words: alone they need a preposition or a year.
      const ambiguous = m[1] === 'may' || m[1] === 'mar' || m[1] === 'sep';
      if (ambiguous && !m[2] && !m[3] && !PREPOSITION_BEFORE.test(m.input.slice(Math.max(0, m.index - 10), m.index))) return null;
      const y = yearOf(t, m[2], m[3], recentYear(t, month));
      return y >= 1900 && y <= 2200 ? monthRange(y, month) : null;
    },
  },
  {
    // "Q3", "q1 2025", "2025 Q1", "Q2 of last year", "second quarter", "3rd quarter 2024"
    re: /\b(?:q([1-4])(?:[ -]?(?:of )?(\d{4})| (?:of )?(last|this|previous) year)?|(\d{4})[ -]?q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th) quarter(?: of)?(?: (\d{4})| (last|this|previous) year)?)\b/g,
    resolve: (m, t) => {
      const ordinal: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, '1st': 1, '2nd': 2, '3rd': 3, '4th': 4 };
      const q = Number(m[1] ?? m[5] ?? 0) || ordinal[m[6] ?? ''] || 0;
      if (!q) return null;
      const y = yearOf(t, m[2] ?? m[4] ?? m[7], m[3] ?? m[8], q <= t.quarter ? t.y : t.y - 1);
      return y >= 1900 && y <= 2200 ? quarterRange(y, q) : null;
    },
  },
  {
    re: /\b(today|yesterday)\b/g,
    resolve: (m, t) => (m[1] === 'today' ? range('today', t.day, t.day + 1) : range('yesterday', t.day - 1, t.day)),
  },
  {
    re: /\b(this|current|last|previous|past|prior) (week|month|quarter|year)(?:'s)?\b/g,
    resolve: (m, t) => {
      const unit = unitOf(m[2] ?? '');
      const back = m[1] === 'this' || m[1] === 'current' ? 0 : 1;
      const [a, b] = calendarUnit(t, unit, back);
      return range(`${back ? 'last' : 'this'}_${unit}`, a, b);
    },
  },
  {
    // A bare year, not an amount ("over 2000 orders", "$2025").
    re: /(?<![$€£#\d.,-])\b(20[0-4]\d|19[5-9]\d)\b(?![\d%-])/g,
    resolve: (m) => {
      const before = m.input.slice(Math.max(0, m.index - 14), m.index);
      if (/\b(?:over|above|under|below|than|top|least|most|about|around|order|orders|product|number|no\.?|#)\s*$/.test(before)) return null;
      return yearRange(Number(m[1]));
    },
  },
];

/** The first time expression of the text (masked in `work`), resolved against `t`. */
export function extractTimeRange(work: Masked, t: Today): TimeRange | undefined {
  const found: { index: number; range: TimeRange }[] = [];
  for (const rule of TIME_RULES) {
    work.each(rule.re, (m) => {
      const r = rule.resolve(m, t);
      if (r) found.push({ index: m.index, range: r });
      return r !== null;
    });
  }
  found.sort((a, b) => a.index - b.index);
  const first = found[0];
  if (!first) return undefined;
  // "since March", "since last week": from its start up to and including today.
  const before = work.text.slice(Math.max(0, first.index - 12), first.index);
  if (/\bsince (?:the )?(?:start of |beginning of )?$/.test(before) && !first.range.label.includes('..')) {
    const start = first.range.start;
    const end = isoOf(t.day + 1);
    if (start < end) return { label: `since_${start}`, start, end };
  }
  return first.range;
}
